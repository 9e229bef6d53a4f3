import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Who is asking, for the work one API request does (`request.actor` in policies): the HTTP layer runs
 * each handler inside `runAs`, so that domain code several calls down (a provisioning started by a
 * deployment started by an action) is judged as the caller, without threading the principal through
 * every signature. Outside a request (background sweeps) there is no actor.
 */
export interface Actor {
  /** The user's ref, e.g. user:default/dana. */
  user: string;
  /** The roles of the user account itself (the first admin's "admin"). */
  roles: string[];
  requestId?: string | undefined;
  /** The caller's role bindings and team memberships, read when a policy reads request.actor.roles. */
  grants?: (() => Promise<ActorGrant[]>) | undefined;
}

/** A role the actor holds for a team's applications (or every team's: `*`) in some environment types. */
export interface ActorGrant {
  role: string;
  /** A team ref (team:default/payments) or `*`. */
  team: string;
  environmentTypes: '*' | string[];
}

const current = new AsyncLocalStorage<Actor>();

export function runAs<T>(actor: Actor, fn: () => T): T {
  return current.run(actor, fn);
}

export function currentActor(): Actor | undefined {
  return current.getStore();
}
