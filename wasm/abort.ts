/**
 * Replaces AssemblyScript's imported `abort` (asconfig.json `use`), so the core has no imports and a
 * failed assertion or allocation is a plain trap, which the host turns into a CORE_FAILURE deny.
 */
export function coreAbort(_message: string | null, _file: string | null, _line: u32, _column: u32): void {
  unreachable();
}
