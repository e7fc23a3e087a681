/**
 * Property-based tests of the proxy's request-id translator (issue 3 §5: fresh unguessable ids, each
 * response delivered once, a bounded table, expiry).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { freshId, IdTable, TableFullError } from "./id_table.ts";

const ID = /^mcpt-[0-9a-f]{32}$/;
const hostId = fc.oneof(fc.string(), fc.integer(), fc.double({ noNaN: true }), fc.constant(null));

test("every added id is unique and has the unguessable format (prefix + 128 bits hex)", () => {
  fc.assert(
    fc.property(fc.array(hostId, { minLength: 1, maxLength: 200 }), (originals) => {
      const t = new IdTable("mcpt-", { max: 1000, ttlMs: 60_000 });
      const ids = originals.map((o) => t.add(o, "tools/call"));
      for (const id of ids) assert.match(id, ID);
      assert.equal(new Set(ids).size, ids.length);
      // The same host id twice still gets two different proxy ids.
      const a = t.add("same", "ping");
      const b = t.add("same", "ping");
      assert.notEqual(a, b);
    }),
  );
});

test("ids carry no counter: consecutive ids differ almost everywhere, every position uses every hex digit", () => {
  const t = new IdTable("mcpt-", { max: 5000, ttlMs: 60_000 });
  const ids = Array.from({ length: 2000 }, () => t.add(1, "ping").slice(5));
  for (let pos = 0; pos < 32; pos++) {
    const digits = new Set(ids.map((id) => id[pos]));
    assert.equal(digits.size, 16, `position ${pos} uses only ${[...digits].join("")}`);
  }
  // Independent random digits differ with probability 15/16 (30 of 32 positions on average); a counter
  // or timestamp changes a few trailing digits. The bound is many standard deviations from both.
  let differing = 0;
  for (let i = 1; i < ids.length; i++) {
    for (let pos = 0; pos < 32; pos++) if (ids[i][pos] !== ids[i - 1][pos]) differing++;
  }
  assert.ok(
    differing / (ids.length - 1) > 28,
    `consecutive ids differ in ${differing / (ids.length - 1)} of 32 positions`,
  );
});

test("an RNG failure propagates (the caller denies) and leaves the table unchanged", () => {
  // A new table draws its first random bytes on its first add.
  const t = new IdTable("mcpt-", { max: 10, ttlMs: 60_000 });
  const original = crypto.getRandomValues;
  crypto.getRandomValues = (() => {
    throw new Error("no entropy");
  }) as typeof crypto.getRandomValues;
  try {
    assert.throws(() => t.add(2, "tools/call"), /no entropy/);
    assert.throws(() => freshId("x-"), /no entropy/);
  } finally {
    crypto.getRandomValues = original;
  }
  assert.equal(t.size, 0);
  t.add(1, "ping");
  assert.equal(t.size, 1);
});

type Op =
  | { kind: "add"; original: string | number | null; method: string }
  | { kind: "takeKnown"; index: number }
  | { kind: "takeUnknown"; id: unknown }
  | { kind: "findByOriginal"; index: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("add" as const),
    original: fc.oneof(fc.string(), fc.integer(), fc.constant(null)),
    method: fc.constantFrom("tools/call", "ping", "tools/list"),
  }),
  fc.record({ kind: fc.constant("takeKnown" as const), index: fc.nat() }),
  fc.record({
    kind: fc.constant("takeUnknown" as const),
    id: fc.oneof(fc.string(), fc.integer(), fc.constant(null), fc.constant(undefined), fc.object()),
  }),
  fc.record({ kind: fc.constant("findByOriginal" as const), index: fc.nat() }),
);

test("take returns each entry exactly once, with its original id and method; size never exceeds max", () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 120 }), (max, ops) => {
      const t = new IdTable<{ n: number }>("mcpt-", { max, ttlMs: 60_000 });
      const model = new Map<string, { original: unknown; method: string; n: number }>();
      const issued: string[] = []; // every id ever issued, taken or not
      let n = 0;
      for (const o of ops) {
        switch (o.kind) {
          case "add": {
            if (model.size >= max) {
              assert.throws(() => t.add(o.original, o.method, { n }), TableFullError);
              break;
            }
            const id = t.add(o.original, o.method, { n });
            assert.ok(!issued.includes(id), "an id was reused");
            issued.push(id);
            model.set(id, { original: o.original, method: o.method, n });
            n++;
            break;
          }
          case "takeKnown": {
            if (issued.length === 0) break;
            const id = issued[o.index % issued.length];
            const e = t.take(id);
            const m = model.get(id);
            if (m === undefined) {
              assert.equal(e, undefined, "an entry was delivered twice");
            } else {
              assert.ok(e);
              assert.equal(e.originalId, m.original);
              assert.equal(e.method, m.method);
              assert.equal(e.meta?.n, m.n);
              model.delete(id);
            }
            break;
          }
          case "takeUnknown": {
            if (typeof o.id === "string" && model.has(o.id)) break;
            assert.equal(t.take(o.id), undefined);
            break;
          }
          case "findByOriginal": {
            const live = [...model.entries()];
            if (live.length === 0) break;
            const [, m] = live[o.index % live.length];
            const found = t.findByOriginal(m.original as string | number | null);
            assert.ok(found !== undefined && model.get(found)?.original === m.original);
            break;
          }
        }
        assert.equal(t.size, model.size);
        assert.ok(t.size <= max);
      }
    }),
  );
});

test("take matches ids exactly: the same digits as a number, or another case, find nothing", () => {
  const t = new IdTable("mcpt-", { max: 10, ttlMs: 60_000 });
  const id = t.add(7, "tools/call");
  assert.equal(t.take(id.toUpperCase()), undefined);
  assert.equal(t.take(` ${id}`), undefined);
  assert.equal(t.take([id]), undefined);
  assert.ok(t.take(id));
  assert.equal(t.take(id), undefined);
});

test("expire removes exactly the entries whose time is up, and returns them", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000 }),
      fc.array(fc.integer({ min: 0, max: 100_000 }), { maxLength: 60 }),
      fc.integer({ min: 0, max: 120_000 }),
      fc.option(fc.nat(), { nil: undefined }),
      (ttl, addTimes, randomNow, onBoundary) => {
        // Often exactly at some entry's expiry: an entry expires at its time, not one tick later.
        const now = onBoundary !== undefined && addTimes.length > 0
          ? addTimes[onBoundary % addTimes.length] + ttl
          : randomNow;
        const t = new IdTable("mcpt-", { max: 100, ttlMs: ttl });
        const expiresAt = new Map<string, number>();
        for (const at of addTimes) expiresAt.set(t.add(at, "ping", undefined, at), at + ttl);
        const expired = t.expire(now);
        const expectedGone = [...expiresAt].filter(([, exp]) => exp <= now).map(([id]) => id).sort();
        assert.deepEqual(expired.map(([id]) => id).sort(), expectedGone);
        for (const [id, e] of expired) assert.equal(e.expiresAt, expiresAt.get(id));
        assert.equal(t.size, expiresAt.size - expectedGone.length);
        for (const [id, exp] of expiresAt) {
          if (exp <= now) assert.equal(t.take(id), undefined, "an expired entry was still deliverable");
          else assert.ok(t.peek(id), "a live entry was expired");
        }
        // A second sweep at the same time removes nothing more.
        assert.deepEqual(t.expire(now), []);
      },
    ),
  );
});

test("drain empties the table and returns every entry once", () => {
  fc.assert(
    fc.property(fc.array(hostId, { maxLength: 50 }), (originals) => {
      const t = new IdTable("mcpt-", { max: 100, ttlMs: 1000 });
      const ids = originals.map((o) => t.add(o, "ping"));
      const drained = t.drain();
      assert.deepEqual(drained.map(([id]) => id).sort(), [...ids].sort());
      assert.equal(t.size, 0);
      assert.deepEqual(t.drain(), []);
    }),
  );
});
