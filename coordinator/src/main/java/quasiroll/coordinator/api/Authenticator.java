package quasiroll.coordinator.api;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.Counter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import quasiroll.common.error.BadInputException;

/**
 * Establishes the caller ({@link Principal}) of every call on the coordinator's gRPC port and
 * refuses anyone else with UNAUTHENTICATED (counted in {@code
 * quasiroll_coordinator_refused_calls}). Credentials, in this order:
 *
 * <ol>
 *   <li>a TLS client certificate verified against the cluster CA: the principal is its subject's
 *       CN, the role its OU ({@code node}, {@code client} or {@code admin});
 *   <li>{@code authorization: Bearer <token>}: a token from the tokens file ({@code <name> <role>
 *       <token>} per line), or the shared cluster token (role NODE, and ADMIN as well when there is
 *       no tokens file).
 * </ol>
 *
 * <p>Tokens are kept as SHA-256 digests and a presented token is compared by digest, so no token is
 * compared byte by byte. With no credential configured at all every call is {@link Principal#LOCAL}
 * (the coordinator refuses that on a non-loopback bind).
 */
public final class Authenticator implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final Map<String, Principal> byDigest;
  private final boolean open;
  private final Counter refused;

  private Authenticator(Map<String, Principal> byDigest, boolean open, Counter refused) {
    this.byDigest = byDigest;
    this.open = open;
    this.refused = refused;
  }

  /**
   * @param clusterToken the shared token ("" = none)
   * @param tokensFile the per-principal tokens file, or null
   * @param certificates whether client certificates (mutual TLS) are accepted as credentials
   */
  public static Authenticator create(
      String clusterToken, Path tokensFile, boolean certificates, Counter refused) {
    Map<String, Principal> tokens = new HashMap<>();
    if (tokensFile != null) {
      readTokens(tokensFile, tokens);
    }
    if (!clusterToken.isEmpty()) {
      EnumSet<Principal.Role> roles =
          tokensFile == null
              ? EnumSet.of(Principal.Role.NODE, Principal.Role.ADMIN)
              : EnumSet.of(Principal.Role.NODE);
      if (tokens.putIfAbsent(digest(clusterToken), new Principal("cluster", roles, true)) != null) {
        throw new BadInputException(
            "quasiroll.auth.token is also a token in " + tokensFile + ": expected distinct tokens");
      }
    }
    return new Authenticator(Map.copyOf(tokens), tokens.isEmpty() && !certificates, refused);
  }

  /** Whether calls are accepted without any credential. */
  public boolean open() {
    return open;
  }

  private static void readTokens(Path file, Map<String, Principal> into) {
    List<String> lines;
    try {
      lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new BadInputException(
          "quasiroll.auth.tokens-file '" + file + "' cannot be read: " + e.getMessage());
    }
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\\s+");
      String where = file + ":" + (i + 1);
      if (f.length != 3) {
        throw new BadInputException(
            where + ": expected '<name> <role> <token>', got " + f.length + " fields");
      }
      Principal.Role role = role(f[1], where);
      if (f[2].length() < 16) {
        throw new BadInputException(
            where
                + ": the token of '"
                + f[0]
                + "' has "
                + f[2].length()
                + " characters: expected at least 16 (e.g. openssl rand -hex 32)");
      }
      if (into.putIfAbsent(digest(f[2]), new Principal(f[0], EnumSet.of(role), false)) != null) {
        throw new BadInputException(
            where
                + ": the token of '"
                + f[0]
                + "' is used twice: expected one token per principal");
      }
    }
  }

  private static Principal.Role role(String s, String where) {
    try {
      return Principal.Role.valueOf(s.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new BadInputException(
          where + ": role '" + s + "' is unknown: expected client, admin or node");
    }
  }

  static String digest(String token) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public <Q, A> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
    Principal p = fromCertificate(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (p == null) {
      String got = headers.get(AUTHORIZATION);
      if (got != null && got.startsWith("Bearer ")) {
        p = byDigest.get(digest(got.substring("Bearer ".length())));
      }
    }
    if (p == null && open) {
      p = Principal.LOCAL;
    }
    if (p == null) {
      refused.increment();
      call.close(
          Status.UNAUTHENTICATED.withDescription(
              "missing or wrong credential: expected 'authorization: Bearer <token>' metadata with"
                  + " a token the coordinator knows, or a client certificate from the cluster CA"),
          new Metadata());
      return new ServerCall.Listener<>() {};
    }
    return Contexts.interceptCall(
        Context.current().withValue(Principal.KEY, p), call, headers, next);
  }

  /** The principal of a verified client certificate (CN = name, OU = role), or null. */
  private static Principal fromCertificate(SSLSession session) {
    if (session == null) {
      return null;
    }
    X509Certificate cert;
    try {
      var chain = session.getPeerCertificates();
      if (chain.length == 0 || !(chain[0] instanceof X509Certificate x)) {
        return null;
      }
      cert = x;
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    String cn = null;
    String ou = null;
    try {
      for (Rdn rdn : new LdapName(cert.getSubjectX500Principal().getName()).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          cn = rdn.getValue().toString();
        } else if (rdn.getType().equalsIgnoreCase("OU")) {
          ou = rdn.getValue().toString();
        }
      }
    } catch (InvalidNameException e) {
      return null;
    }
    if (cn == null || ou == null) {
      return null;
    }
    try {
      return new Principal(
          cn, EnumSet.of(Principal.Role.valueOf(ou.toUpperCase(Locale.ROOT))), false);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
