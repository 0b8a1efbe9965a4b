package quasiroll.coordinator.api;

import io.grpc.Context;
import java.util.EnumSet;
import java.util.Set;

/**
 * Who is calling, as established by {@link Authenticator}, and what they may do.
 *
 * <ul>
 *   <li>{@code CLIENT}: submits jobs; sees, streams and cancels only the jobs it submitted (a job
 *       is owned by the principal name that submitted it).
 *   <li>{@code ADMIN}: a client that sees, streams and cancels every job.
 *   <li>{@code NODE}: a worker's data plane stream. A named node credential (its own token or
 *       certificate) may only send as worker ids starting with "{@code <name>-}"; the shared
 *       cluster token may send as any worker id.
 * </ul>
 *
 * @param shared true for the shared cluster token or an unauthenticated loopback coordinator
 */
public record Principal(String name, Set<Role> roles, boolean shared) {
  public enum Role {
    CLIENT,
    ADMIN,
    NODE
  }

  static final Context.Key<Principal> KEY = Context.key("quasiroll-principal");

  /** Everyone on a coordinator without authentication (loopback only). */
  static final Principal LOCAL = new Principal("local", EnumSet.allOf(Role.class), true);

  public Principal {
    roles = Set.copyOf(roles);
  }

  /** The caller of the current gRPC call (LOCAL when no authenticator ran). */
  static Principal current() {
    Principal p = KEY.get();
    return p == null ? LOCAL : p;
  }

  public boolean has(Role r) {
    return roles.contains(r);
  }

  public boolean isClient() {
    return has(Role.CLIENT) || has(Role.ADMIN);
  }

  /** Whether this principal may see, stream and cancel a job owned by {@code owner}. */
  public boolean canSee(String owner) {
    return has(Role.ADMIN) || name.equals(owner);
  }

  /** Whether this principal may send results as worker {@code workerId}. */
  public boolean mayActAsWorker(String workerId) {
    return has(Role.NODE) && (shared || workerId.startsWith(name + "-"));
  }
}
