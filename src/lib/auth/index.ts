export { type Access, mayTouch, orgWide } from "./access";
export {
  authenticate,
  type Grant,
  grantFor,
  type KeyPrincipal,
  KeyRequest,
  keyView,
  listKeys,
  MAX_KEY_PROJECTS,
  type MintedKey,
  mintKey,
  requireOrgWide,
  requireScope,
  revokeKey,
  touchKey,
  unusableKeys,
} from "./keys";
export { createOrg } from "./orgs";
export { parseScopes, SCOPES, type Scope, ScopeList } from "./scopes";
