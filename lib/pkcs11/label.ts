import { Pkcs11Error } from './errors.ts';
import { untrustedText } from '../untrusted-text.ts';

/**
 * CK_TOKEN_INFO.label is 32 bytes, blank-padded, not NUL-terminated
 * (PKCS#11 v2.40 §5.5, C_InitToken). pkcs11js hands the module the string's
 * bytes as they are and the module reads 32 of them, so the padding is ours
 * to add; a label that does not fit is refused rather than cut. Control
 * characters are refused too: the label is shown on every terminal and in
 * every tool that lists the token afterwards.
 */
export function paddedLabel(label: string): string {
  if ([...label].some((c) => c < ' ' || (c >= '\u007f' && c <= '\u009f'))) {
    throw new Pkcs11Error('PKCS11_LABEL_FORMAT', `a token label holds printable characters only, not ${untrustedText(label)}`);
  }
  const bytes = Buffer.byteLength(label, 'utf8');
  if (bytes > 32) throw new Pkcs11Error('PKCS11_LABEL_FORMAT', `a token label holds at most 32 bytes, ${untrustedText(label)} has ${bytes}`);
  return label + ' '.repeat(32 - bytes);
}
