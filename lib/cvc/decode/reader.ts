/**
 * Reads the elements of a constructed data object in the order TR-03110
 * fixes for it: each expected element in its place, optional ones where they
 * may be, nothing else. A missing, misplaced, repeated or unknown element is
 * CVC_MALFORMED: the profiles of TR-03110 Part 3 Appendix C are sequences, not
 * sets.
 */
import { tagName } from '../tags.ts';
import { children, tlvError, type Source, type Tlv } from './tlv.ts';

export class Elements {
  private index = 0;

  private constructor(
    private readonly items: readonly Tlv[],
    private readonly source: Source,
    /** What holds the elements, for messages: "the certificate body (7F4E)". */
    private readonly holder: string,
    private readonly holderOffset: number,
  ) {}

  /** The elements inside `tlv`, which must be constructed. */
  static of(tlv: Tlv, source: Source, holder: string): Elements {
    return new Elements(children(tlv, source), source, holder, tlv.offset);
  }

  /** The next element, which must have `tag`. */
  take(tag: number, name = tagName(tag)): Tlv {
    const next = this.items[this.index];
    if (next === undefined) throw tlvError('CVC_MALFORMED', this.source, this.holderOffset, `${this.holder} lacks its ${name}`);
    if (next.tag !== tag) throw tlvError('CVC_MALFORMED', this.source, next.offset, `${this.holder} has ${tagName(next.tag)} where its ${name} belongs`);
    this.index++;
    return next;
  }

  /** The next element if it has `tag`. */
  optional(tag: number): Tlv | undefined {
    const next = this.items[this.index];
    if (next?.tag !== tag) return undefined;
    this.index++;
    return next;
  }

  /** True when the next element has `tag`. */
  peek(tag: number): boolean {
    return this.items[this.index]?.tag === tag;
  }

  /** Nothing may follow. */
  end(): void {
    const next = this.items[this.index];
    if (next !== undefined) throw tlvError('CVC_MALFORMED', this.source, next.offset, `${this.holder} has an unexpected ${tagName(next.tag)} after its last element`);
  }
}
