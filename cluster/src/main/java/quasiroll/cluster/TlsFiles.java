package quasiroll.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLException;
import quasiroll.common.error.BadInputException;

/**
 * A node's or client's TLS material as PEM files ({@code quasiroll.tls.*}): its certificate chain,
 * its private key (PKCS#8, "BEGIN PRIVATE KEY"; RSA for the cluster transport) and the CA
 * certificate(s) it trusts. deploy/tls/make-dev-ca.sh makes a development set.
 *
 * <p>One set serves three channels: the coordinator's gRPC port (client API and data plane; client
 * certificates requested, required on the data plane), the worker's data plane client (mutual TLS:
 * it presents its node certificate) and the Pekko cluster transport (artery {@code tls-tcp} with
 * Pekko's rotating-keys engine: mutual TLS with certificates from the CA, and the peer must share a
 * subject name with this node's certificate, which the development script makes "quasiroll-cluster"
 * for every node certificate; a client certificate has no such name and cannot join).
 *
 * @param cert null for a client without a certificate (it authenticates with a token)
 * @param key null exactly when cert is
 */
public record TlsFiles(Path cert, Path key, Path ca) {
  public TlsFiles {
    if ((cert == null) != (key == null)) {
      throw new BadInputException(
          "TLS: "
              + (cert == null ? "a key without a certificate" : "a certificate without a key")
              + ": expected both quasiroll.tls.cert and quasiroll.tls.key (or neither, for a"
              + " client)");
    }
    if (ca == null) {
      throw new BadInputException(
          "TLS: quasiroll.tls.ca is empty: expected the PEM file of the CA to trust");
    }
    for (Path p : cert == null ? List.of(ca) : List.of(cert, key, ca)) {
      if (!Files.isReadable(p)) {
        throw new BadInputException("TLS: file '" + p + "' does not exist or is not readable");
      }
    }
  }

  /** From {@code quasiroll.tls.{cert,key,ca}}; null when all are empty (TLS off). */
  public static TlsFiles from(Config c) {
    String cert = string(c, "quasiroll.tls.cert");
    String key = string(c, "quasiroll.tls.key");
    String ca = string(c, "quasiroll.tls.ca");
    if (cert.isEmpty() && key.isEmpty() && ca.isEmpty()) {
      return null;
    }
    return new TlsFiles(path(cert), path(key), path(ca));
  }

  /** From command-line options (a client); null when ca is null. */
  public static TlsFiles of(Path cert, Path key, Path ca) {
    if (ca == null && cert == null && key == null) {
      return null;
    }
    return new TlsFiles(cert, key, ca);
  }

  private static String string(Config c, String key) {
    return c.hasPath(key) ? c.getString(key).trim() : "";
  }

  private static Path path(String s) {
    return s.isEmpty() ? null : Path.of(s);
  }

  /**
   * Refuses a non-loopback bind without TLS: anyone who can reach a plaintext port can join the
   * cluster, read results or inject them. {@code quasiroll.tls.allow-plaintext-network = true}
   * overrides it for an isolated network (documented as unsafe).
   *
   * @param what e.g. "--bind 10.0.0.5 (gRPC)"
   */
  public static void requireForBind(String bindHost, TlsFiles tls, Config c, String what) {
    if (tls != null || (c.hasPath(PLAINTEXT_KEY) && c.getBoolean(PLAINTEXT_KEY))) {
      return;
    }
    boolean loopback;
    try {
      loopback = java.net.InetAddress.getByName(bindHost).isLoopbackAddress();
    } catch (java.net.UnknownHostException e) {
      throw new BadInputException(what + ": host '" + bindHost + "' cannot be resolved");
    }
    if (!loopback) {
      throw new BadInputException(
          what
              + " is not a loopback address: TLS is required (set quasiroll.tls.cert,"
              + " quasiroll.tls.key and quasiroll.tls.ca; deploy/tls/make-dev-ca.sh makes a"
              + " development set), or set "
              + PLAINTEXT_KEY
              + " = true on an isolated network (unsafe: see docs/security.md)");
    }
  }

  public static final String PLAINTEXT_KEY = "quasiroll.tls.allow-plaintext-network";

  /** A node: it has a certificate of its own. */
  public TlsFiles requireCertificate(String who) {
    if (cert == null) {
      throw new BadInputException(
          "TLS: "
              + who
              + " needs its own certificate: set quasiroll.tls.cert and quasiroll.tls.key");
    }
    return this;
  }

  /**
   * The gRPC server side: client certificates requested (verified against the CA), not required.
   */
  public SslContext grpcServer() {
    requireCertificate("the coordinator");
    try {
      return GrpcSslContexts.configure(SslContextBuilder.forServer(cert.toFile(), key.toFile()))
          .trustManager(ca.toFile())
          .clientAuth(ClientAuth.OPTIONAL)
          .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new BadInputException(
          "TLS: cannot use " + cert + " / " + key + " / " + ca + ": " + e.getMessage(), e);
    }
  }

  /** The gRPC client side: trusts the CA, presents the certificate when there is one. */
  public SslContext grpcClient() {
    try {
      SslContextBuilder b = GrpcSslContexts.forClient().trustManager(ca.toFile());
      if (cert != null) {
        b.keyManager(cert.toFile(), key.toFile());
      }
      return b.build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new BadInputException("TLS: cannot use " + this + ": " + e.getMessage(), e);
    }
  }

  /** Pekko artery over mutual TLS with these files (layer it over the node's configuration). */
  public Config pekko() {
    requireCertificate("a cluster node");
    String engine = "pekko.remote.artery.ssl.rotating-keys-engine.";
    return ConfigFactory.empty()
        .withValue("pekko.remote.artery.transport", ConfigValueFactory.fromAnyRef("tls-tcp"))
        .withValue(
            "pekko.remote.artery.ssl.ssl-engine-provider",
            ConfigValueFactory.fromAnyRef(
                "org.apache.pekko.remote.artery.tcp.ssl.RotatingKeysSSLEngineProvider"))
        .withValue(
            engine + "key-file", ConfigValueFactory.fromAnyRef(key.toAbsolutePath().toString()))
        .withValue(
            engine + "cert-file", ConfigValueFactory.fromAnyRef(cert.toAbsolutePath().toString()))
        .withValue(
            engine + "ca-cert-file", ConfigValueFactory.fromAnyRef(ca.toAbsolutePath().toString()));
  }
}
