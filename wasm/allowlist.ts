/**
 * The allowlist inside the policy core (AssemblyScript): locked items, their verification state,
 * and a hash index over (kind, key).
 *
 * Memory: three blocks from the TLSF heap, all freed by `resetAllowlist`:
 * - items: ITEM_SIZE-byte records, one per locked item, in load order (the index is the "rule");
 * - bytes: keys, fingerprints and compiled templates, addressed by offset (the block may move while
 *   loading, offsets do not);
 * - slots: open-addressing hash table of item index + 1 (0 = empty), at most half full.
 * Lookups compare the stored bytes, so hash collisions cost time, never correctness; the table holds
 * only lockfile keys, so a request cannot lengthen a probe chain.
 */
import { bytesEqual } from "./bytes";
import { KIND_TEMPLATE, LOAD_DUPLICATE, STATE_UNSEEN } from "./codes";

// Item record layout (byte offsets).
const ITEM_SIZE: usize = 32;
const F_KIND: usize = 0; // u8
const F_STATE: usize = 1; // u8
const F_EPOCH: usize = 4; // u32: list epoch that last showed the item (duplicate detection)
const F_KEY_OFF: usize = 8;
const F_KEY_LEN: usize = 12;
const F_FP_OFF: usize = 16;
const F_FP_LEN: usize = 20;
const F_HASH: usize = 24;
const F_TPL: usize = 28; // offset of the compiled template record, or NO_TEMPLATE

const NO_TEMPLATE: u32 = 0xffffffff;

let itemsPtr: usize = 0;
let itemsCap: i32 = 0;
/** Number of items added since the last reset. */
export let itemCount: i32 = 0;

let bytesPtr: usize = 0;
let bytesCap: i32 = 0;
let bytesLen: i32 = 0;

let slotsPtr: usize = 0;
let slotMask: u32 = 0;

let templatesPtr: usize = 0; // u32 item indices of templates, in load order
/** Number of templates, valid after commit. */
export let templateCount: i32 = 0;

/** True once commit succeeded; before that nothing is locked. */
export let committed: bool = false;
/** Item index involved in the last load error. */
export let errorItem: i32 = -1;

function itemAt(i: i32): usize {
  return itemsPtr + <usize> i * ITEM_SIZE;
}

/** 32-bit FNV-1a over the kind byte and the key: fast, and good enough with byte comparison behind it. */
function hashKey(kind: i32, p: usize, len: i32): u32 {
  let h: u32 = 0x811c9dc5;
  h = (h ^ <u32> kind) * 0x01000193;
  for (let i = 0; i < len; i++) {
    h = (h ^ <u32> load<u8>(p + i)) * 0x01000193;
  }
  return h;
}

/** Frees everything and forgets all items and states. */
export function resetAllowlist(): void {
  if (itemsPtr != 0) heap.free(itemsPtr);
  if (bytesPtr != 0) heap.free(bytesPtr);
  if (slotsPtr != 0) heap.free(slotsPtr);
  if (templatesPtr != 0) heap.free(templatesPtr);
  itemsPtr = 0;
  itemsCap = 0;
  itemCount = 0;
  bytesPtr = 0;
  bytesCap = 0;
  bytesLen = 0;
  slotsPtr = 0;
  slotMask = 0;
  templatesPtr = 0;
  templateCount = 0;
  committed = false;
  errorItem = -1;
}

/** Reserves `n` more bytes in the byte block and returns the offset where they start. */
export function reserveBytes(n: i32): i32 {
  if (bytesLen + n > bytesCap) {
    let cap = bytesCap < 256 ? 256 : bytesCap;
    while (cap < bytesLen + n) cap *= 2;
    bytesPtr = bytesPtr == 0 ? heap.alloc(<usize> cap) : heap.realloc(bytesPtr, <usize> cap);
    bytesCap = cap;
  }
  const off = bytesLen;
  bytesLen += n;
  return off;
}

/** Copies `[src, src+len)` into the byte block and returns its offset. */
export function appendBytes(src: usize, len: i32): i32 {
  const off = reserveBytes(len);
  if (len > 0) memory.copy(bytesPtr + <usize> off, src, <usize> len);
  return off;
}

/** Address of a byte-block offset; valid until the next append (the block may move while loading). */
export function bytesAt(off: i32): usize {
  return bytesPtr + <usize> off;
}

/** Adds an item in state UNSEEN and returns its index. Keys are indexed at commit. */
export function addItem(kind: i32, key: usize, keyLen: i32, fp: usize, fpLen: i32): i32 {
  if (itemCount == itemsCap) {
    const cap = itemsCap < 16 ? 16 : itemsCap * 2;
    const size = <usize> cap * ITEM_SIZE;
    itemsPtr = itemsPtr == 0 ? heap.alloc(size) : heap.realloc(itemsPtr, size);
    itemsCap = cap;
  }
  const keyOff = appendBytes(key, keyLen);
  const fpOff = appendBytes(fp, fpLen);
  const it = itemAt(itemCount);
  store<u8>(it + F_KIND, <u8> kind);
  store<u8>(it + F_STATE, <u8> STATE_UNSEEN);
  store<u32>(it + F_EPOCH, 0);
  store<u32>(it + F_KEY_OFF, keyOff);
  store<u32>(it + F_KEY_LEN, keyLen);
  store<u32>(it + F_FP_OFF, fpOff);
  store<u32>(it + F_FP_LEN, fpLen);
  store<u32>(it + F_HASH, hashKey(kind, key, keyLen));
  store<u32>(it + F_TPL, NO_TEMPLATE);
  itemCount += 1;
  return itemCount - 1;
}

/** Records where item `i`'s compiled template lives in the byte block. */
export function setTemplate(i: i32, recordOff: i32): void {
  store<u32>(itemAt(i) + F_TPL, recordOff);
}

/** Offset of item `i`'s compiled template record. */
export function templateOf(i: i32): i32 {
  return <i32> load<u32>(itemAt(i) + F_TPL);
}

/**
 * Builds the hash index and the template list. Returns 0, or LOAD_DUPLICATE with `errorItem` set to
 * the second item of a duplicated (kind, key).
 */
export function commitAllowlist(): i32 {
  let slots: u32 = 16;
  while (slots < <u32> itemCount * 2) slots <<= 1;
  slotsPtr = heap.alloc(<usize> slots * 4);
  memory.fill(slotsPtr, 0, <usize> slots * 4);
  slotMask = slots - 1;
  const listLen: i32 = itemCount > 0 ? itemCount : 1;
  templatesPtr = heap.alloc(<usize> listLen << 2);
  templateCount = 0;
  for (let i = 0; i < itemCount; i++) {
    const it = itemAt(i);
    const kind = <i32> load<u8>(it + F_KIND);
    const key = bytesAt(<i32> load<u32>(it + F_KEY_OFF));
    const keyLen = <i32> load<u32>(it + F_KEY_LEN);
    if (findItem(kind, key, keyLen) >= 0) {
      errorItem = i;
      return LOAD_DUPLICATE;
    }
    let s = load<u32>(it + F_HASH) & slotMask;
    while (load<u32>(slotsPtr + <usize> s * 4) != 0) s = (s + 1) & slotMask;
    store<u32>(slotsPtr + <usize> s * 4, i + 1);
    if (kind == KIND_TEMPLATE) {
      store<u32>(templatesPtr + <usize> templateCount * 4, i);
      templateCount += 1;
    }
  }
  committed = true;
  return 0;
}

/** Index of the item with this kind and key, or -1. Allocation-free, O(key length) expected. */
export function findItem(kind: i32, key: usize, keyLen: i32): i32 {
  if (slotsPtr == 0) return -1;
  const h = hashKey(kind, key, keyLen);
  let s = h & slotMask;
  while (true) {
    const v = load<u32>(slotsPtr + <usize> s * 4);
    if (v == 0) return -1;
    const it = itemAt(<i32> v - 1);
    if (
      load<u32>(it + F_HASH) == h && <i32> load<u8>(it + F_KIND) == kind &&
      <i32> load<u32>(it + F_KEY_LEN) == keyLen &&
      bytesEqual(bytesAt(<i32> load<u32>(it + F_KEY_OFF)), key, keyLen)
    ) {
      return <i32> v - 1;
    }
    s = (s + 1) & slotMask;
  }
  return -1;
}

/** Item index of the `n`-th template (load order). */
export function templateItem(n: i32): i32 {
  return <i32> load<u32>(templatesPtr + <usize> n * 4);
}

/** Kind of item `i`. */
export function kindOf(i: i32): i32 {
  return <i32> load<u8>(itemAt(i) + F_KIND);
}

/** State of item `i` (STATE_*). */
export function stateOf(i: i32): i32 {
  return <i32> load<u8>(itemAt(i) + F_STATE);
}

/** Sets the state of item `i`. */
export function setState(i: i32, state: i32): void {
  store<u8>(itemAt(i) + F_STATE, <u8> state);
}

/** List epoch that last showed item `i`. */
export function epochOf(i: i32): u32 {
  return load<u32>(itemAt(i) + F_EPOCH);
}

/** Records that list epoch `e` showed item `i`. */
export function setEpoch(i: i32, e: u32): void {
  store<u32>(itemAt(i) + F_EPOCH, e);
}

/** True when item `i`'s locked fingerprint equals `[fp, fp+len)`. */
export function fingerprintEquals(i: i32, fp: usize, len: i32): bool {
  const it = itemAt(i);
  return <i32> load<u32>(it + F_FP_LEN) == len &&
    bytesEqual(bytesAt(<i32> load<u32>(it + F_FP_OFF)), fp, len);
}
