/** Reviewers' verdicts on generated changes: approved changes make their files a priority signal. */

// Only the newest verdicts are ever read (the assembler asks for the latest 20 approvals).
const FEEDBACK_KEEP = 200;

export function recordFeedback(sql: SqlStorage, generationId: string, paths: string[], approved: boolean, at: number): void {
  sql.exec(
    "INSERT OR REPLACE INTO ai_feedback (generation_id, paths, approved, at) VALUES (?, ?, ?, ?)",
    generationId,
    JSON.stringify(paths),
    approved ? 1 : 0,
    at,
  );
  sql.exec(`DELETE FROM ai_feedback WHERE generation_id NOT IN (SELECT generation_id FROM ai_feedback ORDER BY at DESC LIMIT ${FEEDBACK_KEEP})`);
}
