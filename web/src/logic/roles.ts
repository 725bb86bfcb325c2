/** Roles of the signed-in user; admins may do everything the other roles may (as on the server). */

export type Role = 'admin' | 'reviewer' | 'uploader';

export function hasRole(roles: readonly string[], role: Role): boolean {
  return roles.includes(role) || roles.includes('admin');
}
