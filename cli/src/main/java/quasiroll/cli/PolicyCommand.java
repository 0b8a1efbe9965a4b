package quasiroll.cli;

import com.google.protobuf.ByteString;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import quasiroll.common.error.BadInputException;
import quasiroll.common.safetensors.SafetensorsHeader;
import quasiroll.v1.GetPolicyStatusRequest;
import quasiroll.v1.PublishMode;
import quasiroll.v1.PublishPolicyRequest;
import quasiroll.v1.PublishPolicyResponse;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.TensorChunk;

/**
 * {@code quasiroll policy}: publish new weights for a model, show which worker serves which
 * version.
 */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description =
        "Policy versions: publish new weights to every worker serving a model; show versions.",
    subcommands = {PolicyCommand.Publish.class, PolicyCommand.Status.class})
public final class PolicyCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  @Command(
      name = "publish",
      mixinStandardHelpOptions = true,
      description = {
        "Publishes weights as the model's next policy version and prints the response as JSON once"
            + " every worker serving the model has loaded them.",
        "The source is a directory of .safetensors files relative to the coordinator's data"
            + " directory (--source-path), or local .safetensors files streamed to it (--file)."
      })
  static final class Publish implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(
        names = "--model",
        required = true,
        description = "Model id the workers serve (their --model).")
    String model;

    @Option(
        names = "--source-path",
        paramLabel = "DIR",
        description = "Directory relative to the coordinator's data directory.")
    String sourcePath;

    @Option(
        names = "--file",
        paramLabel = "FILE",
        description = "Local .safetensors file to stream (repeatable).")
    List<Path> files = new ArrayList<>();

    @Option(
        names = "--partial",
        description = "Only the given tensors change (default: every weight must be given).")
    boolean partial;

    @Option(
        names = "--mode",
        defaultValue = "wait",
        description =
            "wait: running shards finish on the old version;"
                + " abort: they stop at the next step (default: ${DEFAULT-VALUE}).")
    String mode;

    static final int CHUNK = 4 << 20;

    @Override
    public Integer call() throws Exception {
      if ((sourcePath == null) == files.isEmpty()) {
        throw new BadInputException("give exactly one of --source-path DIR or --file FILE...");
      }
      PublishMode m =
          switch (mode) {
            case "wait" -> PublishMode.PUBLISH_MODE_WAIT;
            case "abort" -> PublishMode.PUBLISH_MODE_ABORT;
            default -> throw new BadInputException("--mode " + mode + ": expected wait or abort");
          };
      ManagedChannel channel = client.channel();
      try {
        CompletableFuture<PublishPolicyResponse> done = new CompletableFuture<>();
        StreamObserver<PublishPolicyRequest> out =
            QuasirollServiceGrpc.newStub(channel)
                .publishPolicy(
                    new StreamObserver<>() {
                      @Override
                      public void onNext(PublishPolicyResponse r) {
                        done.complete(r);
                      }

                      @Override
                      public void onError(Throwable t) {
                        done.completeExceptionally(t);
                      }

                      @Override
                      public void onCompleted() {}
                    });
        PublishPolicyRequest.Builder head =
            PublishPolicyRequest.newBuilder().setModelId(model).setPartial(partial).setMode(m);
        if (sourcePath != null) {
          head.setSourcePath(sourcePath);
        }
        out.onNext(head.build());
        for (Path f : files) {
          stream(f, out);
        }
        out.onCompleted();
        PublishPolicyResponse r;
        try {
          r = done.get();
        } catch (ExecutionException e) {
          if (e.getCause() instanceof StatusRuntimeException s) {
            throw GrpcErrors.translate(s, client.coordinator);
          }
          throw e;
        }
        System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(r));
        return Main.EXIT_OK;
      } finally {
        channel.shutdownNow();
      }
    }

    /** Every tensor of a local file as chunks (flow control: gRPC buffers; files are read once). */
    private static void stream(Path file, StreamObserver<PublishPolicyRequest> out)
        throws IOException {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        for (SafetensorsHeader.Entry e : SafetensorsHeader.parse(file, ch).values()) {
          for (long off = 0; off < Math.max(1, e.bytes()); off += CHUNK) {
            int n = (int) Math.min(CHUNK, e.bytes() - off);
            ByteBuffer buf = ByteBuffer.allocate(n);
            while (buf.hasRemaining()) {
              if (ch.read(buf, e.begin() + off + buf.position()) < 0) {
                throw new BadInputException(file + ": ends inside tensor '" + e.name() + "'");
              }
            }
            buf.flip();
            TensorChunk.Builder c =
                TensorChunk.newBuilder()
                    .setName(e.name())
                    .setDtype(e.dtype())
                    .setOffset(off)
                    .setData(ByteString.copyFrom(buf));
            for (long d : e.shape()) {
              c.addShape(d);
            }
            out.onNext(PublishPolicyRequest.newBuilder().setChunk(c).build());
          }
        }
      }
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description =
          "Prints each model's newest policy version and the versions every worker holds, as JSON.")
  static final class Status implements Callable<Integer> {
    @Mixin ClientOptions client;

    @Option(names = "--model", defaultValue = "", description = "Only this model (default: all).")
    String model;

    @Override
    public Integer call() throws Exception {
      var resp =
          client.unaryCall(
              stub ->
                  stub.getPolicyStatus(
                      GetPolicyStatusRequest.newBuilder().setModelId(model).build()));
      System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(resp));
      return Main.EXIT_OK;
    }
  }
}
