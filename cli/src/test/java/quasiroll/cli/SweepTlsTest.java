package quasiroll.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import quasiroll.cluster.TlsFiles;
import quasiroll.common.error.BadInputException;
import quasiroll.sweep.ClusterRunner;
import quasiroll.v1.JobEvent;
import quasiroll.v1.JobSpec;
import quasiroll.v1.JobState;
import quasiroll.v1.JobStatus;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.SampleResult;
import quasiroll.v1.StreamJobRequest;
import quasiroll.v1.SubmitJobRequest;
import quasiroll.v1.SubmitJobResponse;

/**
 * {@code quasiroll sweep --coordinator} over TLS: the options parsed by the real command line build
 * the sweep's cluster runner, which runs a job against a TLS-only gRPC server (the development CA
 * from deploy/tls/make-dev-ca.sh) that records the client certificate and the bearer token it was
 * shown.
 */
class SweepTlsTest {
  private static final Metadata.Key<String> AUTH =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  @TempDir Path dir;
  private Path tls;
  private Server server;
  private String target;
  private final AtomicReference<String> peer = new AtomicReference<>();
  private final AtomicReference<String> bearer = new AtomicReference<>();

  @BeforeEach
  void start() throws Exception {
    Assumptions.assumeTrue(
        System.getenv("QUASIROLL_TLS_CA") == null, "QUASIROLL_TLS_CA is set in this environment");
    Assumptions.assumeTrue(
        System.getenv("QUASIROLL_AUTH_TOKEN") == null,
        "QUASIROLL_AUTH_TOKEN is set in this environment");
    Path script = Path.of("..", "deploy", "tls", "make-dev-ca.sh").toAbsolutePath().normalize();
    Assumptions.assumeTrue(
        new ProcessBuilder("sh", "-c", "command -v openssl").start().waitFor() == 0, "no openssl");
    tls = dir.resolve("tls");
    Process p =
        new ProcessBuilder(script.toString(), tls.toString()).redirectErrorStream(true).start();
    String log = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.waitFor(), log);

    ServerInterceptor record =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            bearer.set(headers.get(AUTH));
            SSLSession s = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
            try {
              peer.set(
                  s == null
                      ? null
                      : ((X509Certificate) s.getPeerCertificates()[0])
                          .getSubjectX500Principal()
                          .getName());
            } catch (SSLPeerUnverifiedException e) {
              peer.set(null);
            }
            return next.startCall(call, headers);
          }
        };
    QuasirollServiceGrpc.QuasirollServiceImplBase fake =
        new QuasirollServiceGrpc.QuasirollServiceImplBase() {
          @Override
          public void submitJob(SubmitJobRequest req, StreamObserver<SubmitJobResponse> out) {
            out.onNext(SubmitJobResponse.newBuilder().setJobId("j-1").build());
            out.onCompleted();
          }

          @Override
          public void streamJob(StreamJobRequest req, StreamObserver<JobEvent> out) {
            out.onNext(
                JobEvent.newBuilder()
                    .setOffset(0)
                    .setSample(SampleResult.newBuilder().setIndex(2))
                    .build());
            out.onNext(
                JobEvent.newBuilder()
                    .setOffset(1)
                    .setStatus(
                        JobStatus.newBuilder()
                            .setJobId("j-1")
                            .setState(JobState.JOB_STATE_SUCCEEDED))
                    .build());
            out.onCompleted();
          }
        };
    TlsFiles serverTls =
        TlsFiles.of(
            tls.resolve("coordinator.crt"), tls.resolve("coordinator.key"), tls.resolve("ca.crt"));
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .sslContext(serverTls.grpcServer())
            .addService(ServerInterceptors.intercept(fake, record))
            .build()
            .start();
    target = "127.0.0.1:" + server.getPort();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.shutdownNow();
    }
  }

  private SweepRunOptions parse(String... extra) {
    SweepCommand cmd = new SweepCommand();
    List<String> args =
        new ArrayList<>(List.of("--spec", "s.conf", "--out", "o", "--coordinator", target));
    args.addAll(List.of(extra));
    new CommandLine(cmd).parseArgs(args.toArray(String[]::new));
    return cmd.run;
  }

  private List<SampleResult> runOneJob(SweepRunOptions opts) {
    List<SampleResult> got = new ArrayList<>();
    try (ClusterRunner runner = SweepRun.clusterRunner(opts.where.coordinator, opts)) {
      runner.run(JobSpec.newBuilder().setName("t").build(), got::add);
    }
    return got;
  }

  @Test
  void mutualTlsWithATokenFile() throws Exception {
    Path token = dir.resolve("token");
    Files.writeString(token, "s3cret-token-0123456789\n");
    List<SampleResult> got =
        runOneJob(
            parse(
                "--tls-ca",
                tls.resolve("ca.crt").toString(),
                "--tls-cert",
                tls.resolve("client.crt").toString(),
                "--tls-key",
                tls.resolve("client.key").toString(),
                "--token-file",
                token.toString()));
    assertEquals(1, got.size());
    assertEquals(2, got.get(0).getIndex());
    assertTrue(
        peer.get() != null && peer.get().contains("CN=client") && peer.get().contains("OU=client"),
        "peer " + peer.get());
    assertEquals("Bearer s3cret-token-0123456789", bearer.get());
  }

  @Test
  void serverOnlyTlsWithAToken() {
    List<SampleResult> got =
        runOneJob(
            parse("--tls-ca", tls.resolve("ca.crt").toString(), "--token", "tok-abcdefghijklmnop"));
    assertEquals(1, got.size());
    assertNull(peer.get(), "no client certificate was given");
    assertEquals("Bearer tok-abcdefghijklmnop", bearer.get());
  }

  @Test
  void plaintextAgainstATlsCoordinatorFails() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> runOneJob(parse()));
    assertTrue(e.getMessage().contains(target), e.getMessage());
  }

  @Test
  void inconsistentOptionsAreRefused() throws Exception {
    BadInputException noCa =
        assertThrows(
            BadInputException.class,
            () ->
                runOneJob(
                    parse(
                        "--tls-cert",
                        tls.resolve("client.crt").toString(),
                        "--tls-key",
                        tls.resolve("client.key").toString())));
    assertTrue(noCa.getMessage().contains("--tls-ca"), noCa.getMessage());
    Path token = dir.resolve("token");
    Files.writeString(token, "x");
    BadInputException both =
        assertThrows(
            BadInputException.class,
            () -> runOneJob(parse("--token", "a", "--token-file", token.toString())));
    assertTrue(both.getMessage().contains("--token-file"), both.getMessage());
  }
}
