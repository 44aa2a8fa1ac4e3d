# license-oncall: keep the signing service up or stop it in an emergency; no access to keys or
# licenses. Unsealing needs no token at all (the key shares are the authority), so it is not here.
#
#   bao policy write license-oncall policies/license-oncall.hcl
#   bao token create -policy=license-oncall -display-name=oncall-carol -ttl=12h

# `license-console seal`: stop all signing at once (a suspected compromise). Sealing is a root
# protected endpoint, hence sudo on top of update.
path "sys/seal" {
  capabilities = ["update", "sudo"]
}

# `license-console status`: health says whether this node can serve. These endpoints answer without a token; they are listed so that the
# policy documents everything on-call relies on, and keeps working if a proxy demands a token.
path "sys/health" {
  capabilities = ["read"]
}

# Sealed or not, and how far an unseal has got (status, and the TUI's status bar).
path "sys/seal-status" {
  capabilities = ["read"]
}

# Which node is active when Vault runs highly available (the HA line of status).
path "sys/leader" {
  capabilities = ["read"]
}

# Lets the console tell who is connected (display name and accessor) without more rights.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}
