import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { changedMembers, hashMemberMap, memberHashes } from "./members.ts";

test("every member but the key is hashed, byte for byte (no normalization)", () => {
  const a = memberHashes({ name: "t", description: "Read a file", _meta: { x: 1 } }, "name");
  assert.deepEqual(Object.keys(a), ["_meta", "description"]);
  const b = memberHashes({ name: "t", description: "Read a file ", _meta: { x: 1 } }, "name");
  assert.deepEqual(changedMembers(a, b), ["description"]);
  // Key order inside a value does not matter; values do.
  assert.deepEqual(
    memberHashes({ name: "t", m: { a: 1, b: 2 } }, "name"),
    memberHashes({ m: { b: 2, a: 1 }, name: "t" }, "name"),
  );
});

test("changedMembers names changed, added and removed members", () => {
  assert.deepEqual(
    changedMembers({ a: "sha256:1", b: "sha256:2" }, { a: "sha256:1", c: "sha256:3" }),
    ["b", "c"],
  );
  assert.deepEqual(changedMembers({}, {}), []);
});

test("property: adding or changing any member of any name changes the member map's hash", () => {
  const json = fc.jsonValue();
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), json),
      fc.string().filter((k) => k !== "name"),
      json,
      (item, member, value) => {
        const before = hashMemberMap(memberHashes({ ...item, name: "n" }, "name"));
        const next = { ...item, name: "n", [member]: value };
        const same = Object.hasOwn(item, member) &&
          JSON.stringify(memberHashes({ [member]: item[member] })) ===
            JSON.stringify(memberHashes({ [member]: value }));
        const after = hashMemberMap(memberHashes(next, "name"));
        assert.equal(before === after, same);
      },
    ),
    { numRuns: 300 },
  );
});
