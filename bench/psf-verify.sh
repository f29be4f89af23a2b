#!/usr/bin/env bash
# The verification method that came with the original PSF runbook
# (its bin/verify-yubihsm2-attestations), reproduced for the benchmark in
# bench/verify.ts, for every YubiHSM 2 device directory under the products
# directories given:
#
#   1. log SHA-1 and SHA-256 checksums (shasum) of the two .pub files and the
#      three DER certificates;
#   2. convert the three DER certificates to PEM (openssl x509), and log the
#      PEMs' checksums too;
#   3. openssl verify: Yubico's sub-CA against the root; the device
#      certificate against sub-CA + root; each attestation against device
#      certificate + sub-CA + root;
#   4. every step is a timestamped line in a log file.
#
# Nitrokey HSM products had no check in that method and are skipped, as
# there. The PEMs and the log are written to a scratch directory; the
# products are only read.
#
#   bench/psf-verify.sh ROOT_CA.pem SUB_CA.pem PRODUCTS_DIR...
#
# Exit status: 0 when every chain verifies, 1 otherwise.
set -uo pipefail
root_ca=$1
sub_ca=$2
shift 2

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log="$work/verify.log"
status=0

note() {
  local line
  line="[$(date +'%Y-%m-%dT%H:%M:%S%z')]: $*"
  echo "$line" >&2
  echo "$line" >> "$log"
}

checksums() {
  note "checksums of $1"
  note "SHA1: $(shasum -a 1 "$1")"
  note "SHA256: $(shasum -a 256 "$1")"
}

check() {
  local output
  if output=$("$@" 2>&1); then
    note "$output"
  else
    note "FAILED: $output"
    status=1
  fi
}

for products in "$@"; do
  for device in "$products"/*/; do
    device=${device%/}
    serial=$(basename "$device")
    [ -f "$device/${serial}_cert.der" ] || continue
    note "verifying the attestations of YubiHSM 2 $serial"
    for pub in "$device/${serial}_root_pubkey.pub" "$device/${serial}_targets_pubkey.pub"; do
      checksums "$pub"
    done
    pems=()
    for name in cert root_attestation targets_attestation; do
      checksums "$device/${serial}_${name}.der"
      pem="$work/${serial}_${name}.pem"
      openssl x509 -inform DER -in "$device/${serial}_${name}.der" -outform PEM -out "$pem"
      pems+=("$pem")
    done
    for pem in "${pems[@]}"; do
      checksums "$pem"
    done
    check openssl verify -CAfile "$root_ca" "$sub_ca"
    check openssl verify -CAfile <(cat "$sub_ca" "$root_ca") "${pems[0]}"
    for attestation in "${pems[1]}" "${pems[2]}"; do
      check openssl verify -CAfile <(cat "${pems[0]}" "$sub_ca" "$root_ca") "$attestation"
    done
  done
done
exit $status
