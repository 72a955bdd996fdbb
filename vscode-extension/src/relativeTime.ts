/** "just now", "5 min ago", "3 h ago", "yesterday", "4 days ago", then a date. */
export function relativeTime(iso: string | undefined, now: Date = new Date()): string {
  if (!iso) return '';
  const then = new Date(iso);
  const t = then.getTime();
  if (Number.isNaN(t)) return '';
  const seconds = Math.round((now.getTime() - t) / 1000);
  if (seconds < 0) return seconds > -60 ? 'just now' : then.toISOString().slice(0, 10);
  if (seconds < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days === 1) return 'yesterday';
  if (days < 7) return `${days} days ago`;
  if (days < 30) {
    const weeks = Math.round(days / 7);
    return weeks === 1 ? '1 week ago' : `${weeks} weeks ago`;
  }
  return then.toISOString().slice(0, 10);
}

/** "1 message" / "12 messages". */
export function messageCount(n: number | undefined): string {
  const count = n ?? 0;
  return count === 1 ? '1 message' : `${count} messages`;
}
