#!/usr/bin/env bash
# The verification method that came with the original PSF runbook, as a
# script: for every YubiHSM 2 key, `openssl verify` of its attestation
# certificate against the attestation root, with Yubico's sub-CA and the
# device certificate as the untrusted intermediates; then a SHA-256 line for
# every product file, logged for the record. Nitrokey keys get checksums only
# (the method had nothing else for them).
#
# Kept as the baseline that bench/verify.ts measures `runbook verify` against.
#
#   bench/seed-verify.sh ROOT_CA.pem SUB_CA.pem PRODUCTS_DIR... > log
#
# Exit status: 0 when every chain verifies, 1 otherwise.
set -u
root_ca=$1
sub_ca=$2
shift 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0

for products in "$@"; do
  for device in "$products"/*/; do
    device=${device%/}
    serial=$(basename "$device")
    cert="$device/${serial}_cert.der"
    [ -f "$cert" ] || continue
    # The device certificate and the sub-CA form the untrusted part of the chain.
    openssl x509 -inform der -in "$cert" -out "$work/device.pem"
    cat "$sub_ca" "$work/device.pem" > "$work/untrusted.pem"
    for attestation in "$device"/*_attestation.der; do
      openssl x509 -inform der -in "$attestation" -out "$work/attestation.pem"
      if openssl verify -CAfile "$root_ca" -untrusted "$work/untrusted.pem" "$work/attestation.pem" > "$work/out" 2>&1; then
        echo "OK   $attestation"
      else
        echo "FAIL $attestation: $(cat "$work/out")"
        status=1
      fi
    done
  done
  # The checksum log of every product.
  find "$products" -type f | sort | while read -r file; do sha256sum "$file"; done
done
exit $status
