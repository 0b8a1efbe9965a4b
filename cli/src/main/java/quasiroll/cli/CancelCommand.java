package quasiroll.cli;

import com.google.protobuf.util.JsonFormat;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import quasiroll.v1.CancelJobRequest;

@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description =
        "Cancels a job: queued shards are dropped, workers stop its running shards at the next"
            + " step.")
final class CancelCommand implements Callable<Integer> {
  @Mixin ClientOptions client;

  @Parameters(paramLabel = "JOB", description = "Job id as printed by submit.")
  String jobId;

  @Override
  public Integer call() throws Exception {
    var resp =
        client.unaryCall(
            stub -> stub.cancelJob(CancelJobRequest.newBuilder().setJobId(jobId).build()));
    System.out.println(JsonFormat.printer().preservingProtoFieldNames().print(resp.getStatus()));
    return Main.EXIT_OK;
  }
}
