package quasiroll.coordinator.job;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Job ids: "j-" and 128 random bits from {@link SecureRandom} in hex. Unguessable, so knowing one
 * job's id tells nothing about another's (ids are also checked against the caller's ownership, see
 * docs/security.md); unique without coordination, also across restarts.
 */
public final class JobIds {
  private static final SecureRandom RANDOM = new SecureRandom();

  private JobIds() {}

  public static String next() {
    byte[] b = new byte[16];
    RANDOM.nextBytes(b);
    return "j-" + HexFormat.of().formatHex(b);
  }
}
