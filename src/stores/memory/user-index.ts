/**
 * Records a record id under its user in a per-user index.
 *
 * @example
 * ```ts
 * addToIndex(userSessions, session.userId, session.id);
 * ```
 */
export function addToIndex(index: Map<string, Set<string>>, userId: string, id: string): void {
  let ids = index.get(userId);
  if (!ids) {
    ids = new Set();
    index.set(userId, ids);
  }
  ids.add(id);
}

/**
 * Removes a record id from a per-user index, dropping the user's entry when it becomes empty.
 *
 * @example
 * ```ts
 * removeFromIndex(userSessions, session.userId, session.id);
 * ```
 */
export function removeFromIndex(index: Map<string, Set<string>>, userId: string, id: string): void {
  const ids = index.get(userId);
  if (!ids) return;
  ids.delete(id);
  if (ids.size === 0) index.delete(userId);
}
