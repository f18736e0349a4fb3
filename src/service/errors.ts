/**
 * The failures of the service contract that callers tell apart (the API edge maps each to its
 * status in `http/errors.ts`; an embedder catches them by class).
 *
 * @module
 */

/** A conditional write whose condition did not hold (`If-Match`, `If-None-Match: *`): 412. */
export class PreconditionFailedError extends Error {
  /** @param message why */
  constructor(message: string) {
    super(message);
    this.name = "PreconditionFailedError";
  }
}

/** An increment of a key whose value is not an integer (or would leave the safe range): 409. */
export class NotACounterError extends Error {
  /** @param message why */
  constructor(message: string) {
    super(message);
    this.name = "NotACounterError";
  }
}

/** More acknowledgements asked for than there are live members to give them: 503 at once. */
export class NotEnoughReplicasError extends Error {
  /** @param required acks asked for @param live live members, this node included */
  constructor(readonly required: number, readonly live: number) {
    super(`Cannot acknowledge on ${required} replicas: ${live} live member(s)`);
    this.name = "NotEnoughReplicasError";
  }
}

/**
 * Input the contract refuses (the embedded API enforces the same limits as HTTP): `status` is
 * the HTTP status the API edge answers with (400, 413 or 414).
 */
export class InvalidInputError extends RangeError {
  /** @param status HTTP status @param message what is wrong, naming the field */
  constructor(readonly status: 400 | 413 | 414, message: string) {
    super(message);
    this.name = "InvalidInputError";
  }
}
