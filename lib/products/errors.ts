import { RunbookError } from '../errors.ts';

export type ProductsErrorCode =
  /** A product file already exists: products are never overwritten. */
  | 'PRODUCT_EXISTS'
  /** A product could not be written (disk full, permissions, ...). */
  | 'PRODUCT_WRITE_FAILED'
  /** Bytes that should be a public key are not one we accept. */
  | 'KEY_MALFORMED'
  /** A public key is on a curve the ceremony does not use. */
  | 'KEY_CURVE_UNSUPPORTED';

export class ProductsError extends RunbookError<ProductsErrorCode> {}
