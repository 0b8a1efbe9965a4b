package quasiroll.cluster.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import quasiroll.cluster.ClusterConfig;
import quasiroll.cluster.ClusterKeys;
import quasiroll.cluster.wire.ToCoordinator.RegisterWorker;
import quasiroll.cluster.wire.ToCoordinator.RequestWork;
import quasiroll.cluster.wire.ToWorker.AssignShard;
import quasiroll.cluster.wire.ToWorker.CancelJobWork;
import quasiroll.cluster.wire.ToWorker.Welcome;
import quasiroll.v1.DecodeParams;
import quasiroll.v1.SamplerSpec;

/** Every cluster message round-trips through Kryo; anything unregistered is refused. */
class KryoClusterSerializerTest {
  private static ActorSystem<Void> system;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    var config =
        ClusterConfig.forNode(
            ConfigFactory.load(), ClusterKeys.ROLE_WORKER, "127.0.0.1", null, 0, List.of());
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "kryo-test",
            ConfigFactory.parseString(
                    "pekko.actor.provider = local\npekko.coordinated-shutdown.exit-jvm = off")
                .withFallback(config));
    serialization = SerializationExtension.get(Adapter.toClassic(system));
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  private static Object roundTrip(Object m) {
    Serializer s = serialization.findSerializerFor(m);
    assertTrue(s instanceof KryoClusterSerializer, m.getClass() + " is bound to " + s);
    byte[] bytes = serialization.serialize(m).get();
    return serialization.deserialize(bytes, s.identifier(), "").get();
  }

  @Test
  void everyMessageTypeRoundTrips() {
    ActorRef<ToWorker> ref =
        system.systemActorOf(
            Behaviors.<ToWorker>empty(), "probe", org.apache.pekko.actor.typed.Props.empty());
    WorkerInfo info = new WorkerInfo("w1", "synthetic:markov?vocab=64", "cpu", 32);
    assertEquals(new RegisterWorker(info, ref), roundTrip(new RegisterWorker(info, ref)));
    assertEquals(new Welcome("127.0.0.1:7470"), roundTrip(new Welcome("127.0.0.1:7470")));
    assertEquals(new RequestWork("w1", 3), roundTrip(new RequestWork("w1", 3)));
    assertEquals(new CancelJobWork("j1"), roundTrip(new CancelJobWork("j1")));
    ShardTask task =
        new ShardTask(
            "j1/s0",
            "j1",
            "p0",
            "hello",
            new int[] {1, 2},
            8,
            new int[] {0, 4},
            SamplerSpec.newBuilder().setKind("sobol").putOptions("scramble", "owen").build(),
            DecodeParams.newBuilder()
                .setTemperature(0.5f)
                .setMaxNewTokens(7)
                .addStopStrings("\n")
                .build(),
            -1L,
            3L);
    AssignShard back = (AssignShard) roundTrip(new AssignShard(task));
    ShardTask t = back.task();
    assertEquals(
        List.of(
            task.shardId(),
            task.jobId(),
            task.promptId(),
            task.promptText(),
            task.k(),
            task.sampler(),
            task.decode(),
            task.jobSeed()),
        List.of(
            t.shardId(),
            t.jobId(),
            t.promptId(),
            t.promptText(),
            t.k(),
            t.sampler(),
            t.decode(),
            t.jobSeed()));
    assertArrayEquals(task.promptTokens(), t.promptTokens());
    assertArrayEquals(task.indices(), t.indices());
    assertEquals(3L, t.policyVersion());
    assertEquals(null, t.promptSeedOrNull());
    // A coalesced HTTP request's prompt carries its own noise seed (Prompt.noise_seed).
    ShardTask seeded =
        new ShardTask(
            "j1/s1",
            "j1",
            "c0.0",
            "hello",
            new int[] {1},
            1,
            new int[] {0},
            SamplerSpec.newBuilder().setKind("iid").build(),
            DecodeParams.getDefaultInstance(),
            5L,
            0L,
            true,
            -7L);
    assertEquals(
        Long.valueOf(-7L),
        ((AssignShard) roundTrip(new AssignShard(seeded))).task().promptSeedOrNull());
    ToWorker.LoadPolicy load =
        new ToWorker.LoadPolicy(
            "demo",
            4,
            new String[] {"a", "b"},
            new String[] {"/d/v4/x.safetensors", "/d/v2/y.safetensors"},
            new String[] {"a"},
            true,
            new long[] {2, 4});
    ToWorker.LoadPolicy l = (ToWorker.LoadPolicy) roundTrip(load);
    assertEquals(List.of("demo", 4L, true), List.of(l.modelId(), l.version(), l.partial()));
    assertArrayEquals(load.tensorNames(), l.tensorNames());
    assertArrayEquals(load.tensorFiles(), l.tensorFiles());
    assertArrayEquals(load.changed(), l.changed());
    assertArrayEquals(load.keep(), l.keep());
    assertEquals(
        new ToWorker.AbortOlderVersions("demo", 4),
        roundTrip(new ToWorker.AbortOlderVersions("demo", 4)));
    ToCoordinator.PolicyLoaded loaded =
        new ToCoordinator.PolicyLoaded("w1", "demo", 4, new long[] {0, 4}, "", 123);
    ToCoordinator.PolicyLoaded back2 = (ToCoordinator.PolicyLoaded) roundTrip(loaded);
    assertEquals(
        List.of("w1", "demo", 4L, "", 123L),
        List.of(
            back2.workerId(), back2.modelId(), back2.version(), back2.error(), back2.loadNanos()));
    assertArrayEquals(loaded.loaded(), back2.loaded());
  }

  @Test
  void everyRegisteredClassIsCoveredByAMessageAbove() {
    // A new cluster message must be registered AND added to the round-trip test above.
    assertEquals(15, KryoClusterSerializer.IDS.size());
  }

  /** What a worker agent's own message looks like: local to its JVM, so refused on the wire. */
  private record NotRegistered(String x) implements ToWorker.Local {}

  @Test
  void unregisteredClassesAreRefused() {
    Serializer s = serialization.findSerializerFor(new NotRegistered("x"));
    assertTrue(s instanceof KryoClusterSerializer);
    Exception e = assertThrows(Exception.class, () -> s.toBinary(new NotRegistered("x")));
    assertTrue(String.valueOf(e.getMessage()).contains("not registered"), e.getMessage());
  }

  @Test
  void javaSerializationIsOff() {
    assertEquals(
        "off", system.settings().config().getString("pekko.actor.allow-java-serialization"));
  }
}
