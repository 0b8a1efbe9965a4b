package quasiroll.cli;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import quasiroll.cluster.TlsFiles;
import quasiroll.common.error.BadInputException;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.QuasirollServiceGrpc.QuasirollServiceBlockingStub;

/** Options shared by the client commands: where the coordinator is and how to authenticate. */
final class ClientOptions {
  @Option(
      names = "--coordinator",
      defaultValue = "127.0.0.1:7470",
      paramLabel = "HOST:PORT",
      description = "Coordinator gRPC address (default: ${DEFAULT-VALUE}).")
  String coordinator;

  @Mixin Credentials credentials = new Credentials();

  ManagedChannel channel() {
    return credentials.channel(coordinator, null);
  }

  /**
   * Makes one unary call on a fresh channel with a 15 s deadline and closes the channel; a failed
   * call becomes the CLI's error (see {@link GrpcErrors}) naming the coordinator.
   */
  <T> T unaryCall(Function<QuasirollServiceBlockingStub, T> call) {
    ManagedChannel channel = channel();
    try {
      return call.apply(
          QuasirollServiceGrpc.newBlockingStub(channel).withDeadlineAfter(15, TimeUnit.SECONDS));
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.translate(e, coordinator);
    } finally {
      channel.shutdownNow();
    }
  }

  /**
   * How a client reaches a coordinator: TLS files and the bearer token. Shared by the
   * submit/status/cancel commands (through {@link ClientOptions}) and {@code sweep --coordinator}.
   */
  static final class Credentials {
    @Option(
        names = "--token-file",
        paramLabel = "FILE",
        description = "File holding the shared auth token (default: $QUASIROLL_AUTH_TOKEN if set).")
    Path tokenFile;

    @Option(
        names = "--tls-ca",
        paramLabel = "PEM",
        description =
            "CA certificate that signed the coordinator's; switches to TLS (default:"
                + " $QUASIROLL_TLS_CA if set).")
    Path tlsCa;

    @Option(
        names = "--tls-cert",
        paramLabel = "PEM",
        description = "Client certificate for mutual TLS (with --tls-key).")
    Path tlsCert;

    @Option(
        names = "--tls-key",
        paramLabel = "PEM",
        description = "Private key (PKCS#8) of --tls-cert.")
    Path tlsKey;

    /**
     * A channel to {@code target} with these credentials.
     *
     * @param explicitToken a token given on the command line, or null: then --token-file, then
     *     $QUASIROLL_AUTH_TOKEN
     */
    ManagedChannel channel(String target, String explicitToken) {
      NettyChannelBuilder b = NettyChannelBuilder.forTarget(target).maxInboundMessageSize(64 << 20);
      Path ca = tlsCa;
      if (ca == null
          && System.getenv("QUASIROLL_TLS_CA") != null
          && !System.getenv("QUASIROLL_TLS_CA").isBlank()) {
        ca = Path.of(System.getenv("QUASIROLL_TLS_CA"));
      }
      if (ca == null && (tlsCert != null || tlsKey != null)) {
        throw new BadInputException(
            "--tls-cert/--tls-key need --tls-ca (the CA that signed the coordinator's"
                + " certificate)");
      }
      TlsFiles tls = TlsFiles.of(tlsCert, tlsKey, ca);
      if (tls == null) {
        b.usePlaintext();
      } else {
        b.sslContext(tls.grpcClient());
      }
      String token = token(explicitToken);
      if (!token.isEmpty()) {
        Metadata md = new Metadata();
        md.put(
            Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        b.intercept(MetadataUtils.newAttachHeadersInterceptor(md));
      }
      return b.build();
    }

    private String token(String explicitToken) {
      if (explicitToken != null && tokenFile != null) {
        throw new BadInputException(
            "--token and --token-file '" + tokenFile + "' are both given: use one");
      }
      if (explicitToken != null) {
        return explicitToken.strip();
      }
      if (tokenFile != null) {
        try {
          return Files.readString(tokenFile, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          throw new BadInputException(
              "--token-file '" + tokenFile + "' cannot be read: " + e.getMessage());
        }
      }
      String env = System.getenv("QUASIROLL_AUTH_TOKEN");
      return env == null ? "" : env;
    }
  }
}
