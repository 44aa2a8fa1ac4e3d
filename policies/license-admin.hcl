# license-admin: what License Console needs to issue, validate, renew, revoke, batch-issue,
# rotate and export, on ONE Transit key and nothing else. No root token is needed for any of it.
#
# The paths name the default key `license-signing-key` on the mount `transit`; if you set
# LICENSE_CONSOLE_KEY_NAME or LICENSE_CONSOLE_TRANSIT_MOUNT, change them here to match.
#
#   bao policy write license-admin policies/license-admin.hcl      (or: vault policy write ...)
#   bao token create -policy=license-admin -display-name=alice -ttl=8h

# Sign licenses (issue, renew, batch), revocation lists (revocations export) and audit
# checkpoints. `revoke` changes only the registry, but the console asks Vault whether the token
# may sign here before it revokes: whoever cannot sign licenses cannot withdraw them either.
path "transit/sign/license-signing-key" {
  capabilities = ["update"]
}

# Online validation (validate without --offline) and the checkpoint signatures of `audit verify`.
path "transit/verify/license-signing-key" {
  capabilities = ["update"]
}

# Read the key: its type, versions and public keys (keys show, keys export; every signature is
# pinned to the latest version read here). create/update: `keys create` makes the key once.
# Transit never returns private key material on this path (keys are created non-exportable).
path "transit/keys/license-signing-key" {
  capabilities = ["create", "read", "update"]
}

# keys rotate: a new version signs new licenses; licenses signed with older versions still verify.
path "transit/keys/license-signing-key/rotate" {
  capabilities = ["update"]
}

# Retire compromised versions (min_decryption_version): licenses signed with them stop verifying.
path "transit/keys/license-signing-key/config" {
  capabilities = ["update"]
}

# keys create first looks whether the Transit engine is mounted...
path "sys/mounts" {
  capabilities = ["read"]
}

# ...and mounts it at transit/ when it is not. One-time setup: remove this block once Transit is
# mounted (or have an operator mount it), the console then never needs it again.
path "sys/mounts/transit" {
  capabilities = ["create", "update"]
}

# Who acts, for the audit trail: the console records the token's display name and accessor,
# never the token. Vault's `default` policy grants these two; they are repeated here so that a
# token created with -no-default-policy still works.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# Lets `revoke` ask whether this token may sign (see the first block).
path "sys/capabilities-self" {
  capabilities = ["update"]
}
