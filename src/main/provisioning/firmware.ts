/**
 * Firmware facts the engine needs. `software-version` looks like "V3 R5.12.0" (manual p.54);
 * `send-solicited` exists from V3R3 on (manual p.31, p.72).
 */

export function parseSoftwareVersion(raw: string | null | undefined): { major: number; release: number; rest: string } | null {
  const m = /V(\d+)\s*R(\d+)(.*)$/i.exec(raw ?? '');
  return m ? { major: Number(m[1]), release: Number(m[2]), rest: (m[3] ?? '').trim() } : null;
}

/** Unknown versions are assumed current: every firmware still in the field is newer than V3R3. */
export function supportsSendSolicited(softwareVersion: string | null | undefined): boolean {
  const v = parseSoftwareVersion(softwareVersion);
  if (!v) return true;
  return v.major > 3 || (v.major === 3 && v.release >= 3);
}

/**
 * The phone reports "V1 R4.9.0" for what a deployment calls "1.4.9.0" (manual p.54, p.57).
 * Returns the phone's spelling, or null when the input does not look like a version.
 */
export function phoneVersionOf(fileSwVersion: string): string | null {
  const m = /^(\d+)\.(\d+)\.(.+)$/.exec(fileSwVersion.trim());
  return m ? `V${m[1]} R${m[2]}.${m[3]}` : null;
}
