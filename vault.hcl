# The LOCAL signing server: one OpenBao (or Vault) node on this machine, for development and
# for a single-operator authority that keeps its key on one laptop.
#
# Run it by hand from the repository root:
#
#     mkdir -p ./.local-vault/raft && bao server -config=vault.hcl
#
# or let `license-console local start` do it: that writes a copy of this file into its data
# directory (openbao.hcl) with the raft path, node_id, ports and addresses filled in, keeping
# every key below. Keep the keys and their `key = "value"` form when you edit this file.

# Raft (integrated storage) keeps the whole server in one directory: no Consul, and the data
# survives restarts so every license signed before a restart still verifies after it.
storage "raft" {
  # Relative paths are resolved against the directory `bao server` is started from, so this
  # means <cwd>/.local-vault/raft. Create it first: raft refuses to start without it.
  path    = "./.local-vault/raft"
  node_id = "license-console-local"

  # Raft timing for one node on loopback: 1 is the fastest (the default, 5, suits a WAN).
  # With the default, every start spends 5-10 s electing itself leader before it can serve.
  performance_multiplier = 1
}

# Local only: the listener binds the loopback interface and TLS is off, so tokens and unseal
# keys cross only this machine's loopback device. Never expose it on another address; a
# production server needs TLS (tls_cert_file / tls_key_file) and a real unseal ceremony.
listener "tcp" {
  address         = "127.0.0.1:8200"
  cluster_address = "127.0.0.1:8201"
  tls_disable     = true
}

# Where clients and the (single-node) raft cluster reach this node; raft requires both.
# cluster_addr is https even here: node-to-node traffic always uses self-issued TLS.
api_addr     = "http://127.0.0.1:8200"
cluster_addr = "https://127.0.0.1:8201"

# The web UI at http://127.0.0.1:8200/ui: handy to look at the Transit key by hand.
ui = true

# HashiCorp Vault: mlock would keep secrets out of swap, but it needs root or CAP_IPC_LOCK, and
# with raft it also locks the memory-mapped database, which can exhaust memory as the data
# grows; HashiCorp recommends disabling it with integrated storage (encrypt swap instead).
# OpenBao dropped mlock altogether: it logs "unknown or unsupported field disable_mlock" at
# start and carries on. The line stays so the same file serves both servers.
disable_mlock = true
