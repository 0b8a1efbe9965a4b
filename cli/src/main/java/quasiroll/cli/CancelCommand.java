package quasiroll.cli;

import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import quasiroll.v1.CancelJobRequest;
import quasiroll.v1.QuasirollServiceGrpc;

@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description = "Cancels a job: queued shards are dropped, workers stop its running shards at the next step.")
final class CancelCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Parameters(paramLabel = "JOB", description = "Job id as printed by submit.")
  String jobId;

  @Override
  public Integer call() throws Exception {
    ManagedChannel channel = client.channel();
    try {
      var resp = QuasirollServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(15, TimeUnit.SECONDS)
          .cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build());
      System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(resp.getStatus()));
      return Main.EXIT_OK;
    } catch (StatusRuntimeException e) {
      throw GrpcErrors.translate(e, client.coordinator);
    } finally {
      channel.shutdownNow();
    }
  }
}
