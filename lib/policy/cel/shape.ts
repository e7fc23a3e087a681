/**
 * Shapes: the static description of what a CEL rule's `input` holds, so a rule that names a field the
 * input does not have (`t.risk_levl`), or that cannot yield a bool, is refused when the policy is loaded
 * instead of failing at run time.
 *
 * `@bufbuild/cel` has a type checker, but it is not exported (its package exports only `.` and `./ext`),
 * so mcptrust checks expressions against these shapes itself (static_check.ts).
 *
 * @module
 */

/** What a value may be. `object` is a closed record (unknown fields are load errors); `map` has any keys. */
export type Shape =
  | { kind: "bool" | "int" | "uint" | "double" | "string" | "bytes" | "null" | "type" }
  /** Any value (JSON documents such as input schemas; results the checker cannot narrow). */
  | { kind: "dyn" }
  /** The element type of an empty list literal: joins to whatever it is combined with. */
  | { kind: "never" }
  /** A value of a protobuf or other named type (timestamps, durations). */
  | { kind: "opaque"; name: string }
  | { kind: "list"; elem: Shape }
  | { kind: "map"; value: Shape }
  | { kind: "object"; fields: Readonly<Record<string, Field>> };

/** One field of an object shape. */
export interface Field {
  shape: Shape;
  /** Absent from some inputs: test with `has(x.field)` before reading it. */
  optional?: boolean;
  /** One line for reviewers and docs. */
  doc: string;
}

/** Shape constructors, so input shapes read like their documentation. */
export const S = {
  bool: { kind: "bool" } as Shape,
  int: { kind: "int" } as Shape,
  double: { kind: "double" } as Shape,
  string: { kind: "string" } as Shape,
  dyn: { kind: "dyn" } as Shape,
  list: (elem: Shape): Shape => ({ kind: "list", elem }),
  map: (value: Shape): Shape => ({ kind: "map", value }),
  object: (fields: Record<string, Field>): Shape => ({ kind: "object", fields }),
  /** A required field. */
  f: (shape: Shape, doc: string): Field => ({ shape, doc }),
  /** An optional field (absent when unknown or not verified). */
  opt: (shape: Shape, doc: string): Field => ({ shape, doc, optional: true }),
};

/** The CEL type name of a shape, as CEL's `type()` and error messages spell it. */
export function shapeName(s: Shape): string {
  switch (s.kind) {
    case "list":
      return `list(${shapeName(s.elem)})`;
    case "map":
      return `map(string, ${shapeName(s.value)})`;
    case "object":
      return "map";
    case "opaque":
      return s.name;
    case "never":
      return "dyn";
    case "null":
      return "null_type";
    default:
      return s.kind;
  }
}

/**
 * Every field path of `shape` below `root`, in declaration order: lists as `[]`, maps as `{}`.
 *
 * @example
 * fieldPaths(S.object({ tools: S.f(S.list(S.object({ name: S.f(S.string, "") })), "") }), "input");
 * // ["input.tools", "input.tools[].name"]
 */
export function fieldPaths(shape: Shape, root: string): string[] {
  const out: string[] = [];
  const walk = (s: Shape, path: string) => {
    if (s.kind === "object") {
      for (const [name, field] of Object.entries(s.fields)) {
        out.push(`${path}.${name}`);
        walk(field.shape, `${path}.${name}`);
      }
    } else if (s.kind === "list") walk(s.elem, `${path}[]`);
    else if (s.kind === "map") walk(s.value, `${path}{}`);
  };
  walk(shape, root);
  return out;
}
