# license-support: look licenses up and check them, change nothing. A support token can run
# validate, list, keys show and keys export; issue, renew, revoke, batch, keys rotate and
# revocations export fail with exit 3 and "permission denied".
#
# The paths name the default key `license-signing-key` on the mount `transit`; if you set
# LICENSE_CONSOLE_KEY_NAME or LICENSE_CONSOLE_TRANSIT_MOUNT, change them here to match.
#
#   bao policy write license-support policies/license-support.hcl
#   bao token create -policy=license-support -display-name=support-bob -ttl=8h

# validate: Transit checks the signature. Verifying needs only the public key, so this grants
# nothing that could make a signature.
path "transit/verify/license-signing-key" {
  capabilities = ["update"]
}

# The key's type and versions (validate needs them) and its public keys (keys show, keys
# export). Read only: no create, rotate or config, and Transit never hands out private keys here.
path "transit/keys/license-signing-key" {
  capabilities = ["read"]
}

# The audit trail records who validated: display name and accessor, looked up here.
path "auth/token/lookup-self" {
  capabilities = ["read"]
}

# `revoke` asks whether the token may sign; the answer (no) turns into "permission denied".
path "sys/capabilities-self" {
  capabilities = ["update"]
}
