package quasiroll.coordinator.api;

import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Scheduler;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import quasiroll.cluster.wire.ToCoordinator;
import quasiroll.common.error.BadInputException;
import quasiroll.coordinator.events.JobEventLog;
import quasiroll.coordinator.events.JobEventLogs;
import quasiroll.coordinator.job.JobManager;
import quasiroll.coordinator.job.JobSpecValidator;
import quasiroll.v1.CancelJobRequest;
import quasiroll.v1.CancelJobResponse;
import quasiroll.v1.GetJobStatusRequest;
import quasiroll.v1.JobStatus;
import quasiroll.v1.QuasirollServiceGrpc;
import quasiroll.v1.StreamJobRequest;
import quasiroll.v1.SubmitJobRequest;
import quasiroll.v1.SubmitJobResponse;

/**
 * The client-facing {@code QuasirollService}: translates protobuf to job-manager messages and back.
 * Bad specs become INVALID_ARGUMENT with the validator's message; unknown job ids NOT_FOUND.
 * Handlers never block: the server runs them on its transport threads. Event streams are served
 * from the job's event log by an {@link EventStreamer}, as pre-encoded messages (see {@link
 * #bindService}).
 */
public final class ClientApiService
    implements QuasirollServiceGrpc.AsyncService, io.grpc.BindableService {
  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(15);

  private final JobSpecValidator validator;
  private final ActorRef<ToCoordinator> jobManager;
  private final Scheduler scheduler;
  private final JobEventLogs logs;
  private final Executor validation;
  private final quasiroll.coordinator.policy.PolicyStore policies;

  public ClientApiService(
      JobSpecValidator validator,
      ActorRef<ToCoordinator> jobManager,
      Scheduler scheduler,
      JobEventLogs logs,
      Executor validation) {
    this(validator, jobManager, scheduler, logs, validation, null);
  }

  /**
   * @param policies where published policies are staged; null = PublishPolicy is refused
   */
  public ClientApiService(
      JobSpecValidator validator,
      ActorRef<ToCoordinator> jobManager,
      Scheduler scheduler,
      JobEventLogs logs,
      Executor validation,
      quasiroll.coordinator.policy.PolicyStore policies) {
    this.policies = policies;
    this.validator = validator;
    this.jobManager = jobManager;
    this.scheduler = scheduler;
    this.logs = logs;
    this.validation = validation;
  }

  @Override
  public void submitJob(SubmitJobRequest req, StreamObserver<SubmitJobResponse> out) {
    if (!isClient(out)) {
      return;
    }
    submit(req)
        .whenComplete(
            (id, e) -> reply(out, e, () -> SubmitJobResponse.newBuilder().setJobId(id).build()));
  }

  /**
   * The generated service, except that the event streams (StreamJob, StreamJobBatches,
   * SubmitAndStream) send pre-encoded messages ({@link RawMessages}): each event's bytes from the
   * log instead of serializing the event again for every client.
   */
  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition generated = QuasirollServiceGrpc.bindService(this);
    ServerServiceDefinition.Builder b =
        ServerServiceDefinition.builder(generated.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> m : generated.getMethods()) {
      String name = m.getMethodDescriptor().getFullMethodName();
      if (name.equals(QuasirollServiceGrpc.getStreamJobMethod().getFullMethodName())) {
        b.addMethod(
            encoded(QuasirollServiceGrpc.getStreamJobMethod()),
            ServerCalls.asyncServerStreamingCall((req, out) -> streamJobEncoded(req, out, false)));
      } else if (name.equals(
          QuasirollServiceGrpc.getStreamJobBatchesMethod().getFullMethodName())) {
        b.addMethod(
            encoded(QuasirollServiceGrpc.getStreamJobBatchesMethod()),
            ServerCalls.asyncServerStreamingCall((req, out) -> streamJobEncoded(req, out, true)));
      } else if (name.equals(QuasirollServiceGrpc.getSubmitAndStreamMethod().getFullMethodName())) {
        b.addMethod(
            encoded(QuasirollServiceGrpc.getSubmitAndStreamMethod()),
            ServerCalls.asyncServerStreamingCall(this::submitAndStreamEncoded));
      } else {
        b.addMethod(m);
      }
    }
    return b.build();
  }

  /** The method with its responses sent as already-encoded bytes. */
  private static <Q> MethodDescriptor<Q, byte[]> encoded(MethodDescriptor<Q, ?> m) {
    return m.toBuilder(m.getRequestMarshaller(), RawMessages.INSTANCE).build();
  }

  private void submitAndStreamEncoded(SubmitJobRequest req, StreamObserver<byte[]> out) {
    if (!isClient(out)) {
      return;
    }
    EventStreamer streamer = new EventStreamer((ServerCallStreamObserver<byte[]>) out, false);
    submit(req)
        .whenComplete(
            (id, e) -> {
              if (e != null) {
                out.onError(toStatus(e));
              } else {
                streamer.start(logs.get(id).orElseThrow(), 0);
              }
            });
  }

  private void streamJobEncoded(StreamJobRequest req, StreamObserver<byte[]> out, boolean batches) {
    if (req.getFromOffset() < 0) {
      out.onError(
          Status.INVALID_ARGUMENT
              .withDescription("from_offset " + req.getFromOffset() + " is invalid: expected >= 0")
              .asRuntimeException());
      return;
    }
    if (!visible(req.getJobId(), out)) {
      return;
    }
    stream(req.getJobId(), req.getFromOffset(), out, batches);
  }

  @Override
  public void getJobStatus(GetJobStatusRequest req, StreamObserver<JobStatus> out) {
    if (!visible(req.getJobId(), out)) {
      return;
    }
    ask(replyTo -> new JobManager.GetStatus(req.getJobId(), replyTo))
        .whenComplete((s, e) -> replyStatus(out, req.getJobId(), s, e, Function.identity()));
  }

  @Override
  public void cancelJob(CancelJobRequest req, StreamObserver<CancelJobResponse> out) {
    if (!visible(req.getJobId(), out)) {
      return;
    }
    ask(replyTo -> new JobManager.Cancel(req.getJobId(), replyTo))
        .whenComplete(
            (s, e) ->
                replyStatus(
                    out,
                    req.getJobId(),
                    s,
                    e,
                    st -> CancelJobResponse.newBuilder().setStatus(st).build()));
  }

  /**
   * The first message names the model, the mode and either a source_path (then nothing follows) or
   * nothing (then tensor chunks follow). Staging (checks, copies, links) happens as the messages
   * arrive; the job manager then has every worker load the version.
   */
  @Override
  public StreamObserver<quasiroll.v1.PublishPolicyRequest> publishPolicy(
      StreamObserver<quasiroll.v1.PublishPolicyResponse> out) {
    // A trainer publishes with its client credential; a node credential may not.
    boolean allowed = isClient(out);
    return new StreamObserver<>() {
      private quasiroll.v1.PublishPolicyRequest head;
      private quasiroll.coordinator.policy.PolicyStore.StreamStage stream;
      private boolean failed;

      @Override
      public void onNext(quasiroll.v1.PublishPolicyRequest req) {
        if (failed || !allowed) {
          return;
        }
        try {
          if (head == null) {
            head = req;
            if (policies == null) {
              throw new BadInputException("this coordinator does not accept policies");
            }
            if (req.getModelId().isBlank()) {
              throw new BadInputException(
                  "model_id is empty: expected the model id the workers serve");
            }
            if (req.getSourcePath().isEmpty()) {
              stream = policies.stageStream(req.getModelId(), req.getPartial());
            }
          } else if (!head.getSourcePath().isEmpty()) {
            throw new BadInputException(
                "source_path '"
                    + head.getSourcePath()
                    + "' was given, so no tensor chunks may follow");
          }
          if (req.hasChunk()) {
            if (stream == null) {
              throw new BadInputException(
                  "source_path '"
                      + head.getSourcePath()
                      + "' was given, so no tensor chunks may follow");
            }
            stream.accept(req.getChunk());
          }
        } catch (RuntimeException e) {
          failed = true;
          if (stream != null) {
            stream.abort();
          }
          out.onError(toStatus(e));
        }
      }

      @Override
      public void onError(Throwable t) {
        if (stream != null) {
          stream.abort();
        }
      }

      @Override
      public void onCompleted() {
        if (failed || !allowed) {
          return;
        }
        if (head == null) {
          out.onError(
              toStatus(
                  new BadInputException("empty publish stream: the first message names model_id")));
          return;
        }
        CompletableFuture.supplyAsync(
                () ->
                    stream != null
                        ? stream.finish()
                        : policies.stageDirectory(
                            head.getModelId(), head.getSourcePath(), head.getPartial()),
                validation)
            .thenCompose(
                staged ->
                    AskPattern.<ToCoordinator, JobManager.PublishOutcome>ask(
                        jobManager,
                        replyTo -> new JobManager.PublishPolicy(staged, head.getMode(), replyTo),
                        JobManager.PUBLISH_TIMEOUT.plusSeconds(30),
                        scheduler))
            .whenComplete(
                (outcome, e) -> {
                  if (e == null && !outcome.error().isEmpty()) {
                    out.onError(
                        Status.INVALID_ARGUMENT
                            .withDescription(outcome.error())
                            .asRuntimeException());
                  } else {
                    reply(out, e, outcome == null ? () -> null : outcome::response);
                  }
                });
      }
    };
  }

  @Override
  public void getPolicyStatus(
      quasiroll.v1.GetPolicyStatusRequest req, StreamObserver<quasiroll.v1.PolicyStatus> out) {
    if (!isClient(out)) {
      return;
    }
    AskPattern.<ToCoordinator, quasiroll.v1.PolicyStatus>ask(
            jobManager,
            replyTo -> new JobManager.GetPolicyStatus(req.getModelId(), replyTo),
            ASK_TIMEOUT,
            scheduler)
        .whenComplete((s, e) -> reply(out, e, () -> s));
  }

  /** Clients and admins only (a node credential cannot use the client API). */
  private static boolean isClient(StreamObserver<?> out) {
    Principal p = Principal.current();
    if (!p.isClient()) {
      out.onError(
          Status.PERMISSION_DENIED
              .withDescription(
                  "'" + p.name() + "' has no client role: expected a client or admin credential")
              .asRuntimeException());
      return false;
    }
    return true;
  }

  /**
   * Whether the caller may see job {@code jobId}: an admin sees every job, a client only its own.
   * Another client's job is answered exactly like an unknown one (NOT_FOUND), so ids reveal
   * nothing.
   */
  private boolean visible(String jobId, StreamObserver<?> out) {
    if (!isClient(out)) {
      return false;
    }
    Optional<JobEventLog> log = logs.get(jobId);
    if (log.isPresent() && !Principal.current().canSee(log.get().owner())) {
      out.onError(
          Status.NOT_FOUND.withDescription("job '" + jobId + "' is unknown").asRuntimeException());
      return false;
    }
    return true;
  }

  /**
   * Validation may read a prompts file, so it runs on {@code validation}, not on gRPC's threads.
   */
  private CompletionStage<String> submit(SubmitJobRequest req) {
    String owner = Principal.current().name();
    return CompletableFuture.supplyAsync(() -> validator.validate(req.getSpec()), validation)
        .thenCompose(
            job ->
                AskPattern.<ToCoordinator, JobManager.Submitted>ask(
                    jobManager,
                    replyTo -> new JobManager.Submit(job, owner, replyTo),
                    ASK_TIMEOUT,
                    scheduler))
        .thenApply(
            s -> {
              if (s.refusal() != null) {
                throw new BadInputException(s.refusal());
              }
              return s.jobId();
            });
  }

  private void stream(String jobId, long from, StreamObserver<byte[]> out, boolean batches) {
    Optional<JobEventLog> log = logs.get(jobId);
    if (log.isEmpty()) {
      out.onError(
          Status.NOT_FOUND.withDescription("job '" + jobId + "' is unknown").asRuntimeException());
      return;
    }
    new EventStreamer((ServerCallStreamObserver<byte[]>) out, batches).start(log.get(), from);
  }

  private CompletionStage<Optional<JobStatus>> ask(
      Function<ActorRef<Optional<JobStatus>>, JobManager.Command> message) {
    return AskPattern.ask(jobManager, message::apply, ASK_TIMEOUT, scheduler);
  }

  private static <T> void replyStatus(
      StreamObserver<T> out,
      String jobId,
      Optional<JobStatus> s,
      Throwable e,
      Function<JobStatus, T> wrap) {
    if (e == null && s.isEmpty()) {
      out.onError(
          Status.NOT_FOUND.withDescription("job '" + jobId + "' is unknown").asRuntimeException());
      return;
    }
    reply(out, e, () -> wrap.apply(s.get()));
  }

  private static <T> void reply(
      StreamObserver<T> out, Throwable e, java.util.function.Supplier<T> value) {
    if (e != null) {
      out.onError(toStatus(e));
    } else {
      out.onNext(value.get());
      out.onCompleted();
    }
  }

  private static StatusRuntimeException toStatus(Throwable e) {
    Throwable c =
        e instanceof java.util.concurrent.CompletionException && e.getCause() != null
            ? e.getCause()
            : e;
    if (c instanceof BadInputException) {
      return Status.INVALID_ARGUMENT.withDescription(c.getMessage()).asRuntimeException();
    }
    if (c instanceof java.util.concurrent.TimeoutException) {
      return Status.UNAVAILABLE
          .withDescription("the job manager did not answer in time")
          .asRuntimeException();
    }
    return Status.INTERNAL.withDescription(String.valueOf(c)).asRuntimeException();
  }
}
