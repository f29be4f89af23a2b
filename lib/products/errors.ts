import { RunbookError } from '../errors.ts';

export type ProductsErrorCode =
  /** A product file already exists: products are never overwritten. */
  | 'PRODUCT_EXISTS'
  /** A product could not be written (disk full, permissions, ...). */
  | 'PRODUCT_WRITE_FAILED';

export class ProductsError extends RunbookError<ProductsErrorCode> {}
