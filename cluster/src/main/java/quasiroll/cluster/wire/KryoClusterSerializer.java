package quasiroll.cluster.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * Serializes quasiroll's cluster messages with Kryo 5, registration REQUIRED: only the classes in
 * {@link #IDS} (with fixed ids, so every node agrees) can be written or read, and anything else is
 * refused. Deserializing attacker-chosen classes is a remote-code-execution hole, which is also why
 * Java serialization is switched off in the cluster configuration.
 *
 * <p>Protobuf messages inside cluster messages are written as their own bytes; typed actor
 * references as Pekko's serialization format (resolved with {@link ActorRefResolver}).
 */
public final class KryoClusterSerializer extends JSerializer {
  /** Pekko serializer id; must be unique among the system's serializers. */
  public static final int IDENTIFIER = 7_461_001;

  /**
   * Every class that may cross the network, by its Kryo registration id. The ids are part of the
   * wire format: an existing class keeps its id forever (KryoIdsTest compares this table with a
   * checked-in golden list), and a new class takes a new, higher id.
   */
  public static final SortedMap<Integer, Class<?>> IDS =
      new TreeMap<>(
          Map.ofEntries(
              Map.entry(100, ToCoordinator.RegisterWorker.class),
              Map.entry(101, ToWorker.Welcome.class),
              Map.entry(102, ToCoordinator.RequestWork.class),
              Map.entry(103, ToWorker.AssignShard.class),
              Map.entry(104, ToWorker.CancelJobWork.class),
              Map.entry(105, WorkerInfo.class),
              Map.entry(106, ShardTask.class),
              Map.entry(107, int[].class),
              Map.entry(108, quasiroll.v1.SamplerSpec.class),
              Map.entry(109, quasiroll.v1.DecodeParams.class),
              // 110 is the typed actor reference (TYPED_ACTOR_REF_ID)
              Map.entry(111, ToWorker.LoadPolicy.class),
              Map.entry(112, ToWorker.AbortOlderVersions.class),
              Map.entry(113, ToCoordinator.PolicyLoaded.class),
              Map.entry(114, String[].class),
              Map.entry(115, long[].class)));

  /** Kryo id of Pekko's typed actor reference (inside {@link ToCoordinator.RegisterWorker}). */
  public static final int TYPED_ACTOR_REF_ID = 110;

  /** Pekko's typed ActorRef implementation (internal class, looked up by name). */
  private static final String TYPED_REF_CLASS =
      "org.apache.pekko.actor.typed.internal.adapter.ActorRefAdapter";

  private final ExtendedActorSystem system;
  private volatile ActorRefResolver resolver;
  private final Pool<Kryo> kryos =
      new Pool<>(true, false, 16) {
        @Override
        protected Kryo create() {
          return newKryo();
        }
      };

  public KryoClusterSerializer(ExtendedActorSystem system) {
    this.system = system;
  }

  @Override
  public int identifier() {
    return IDENTIFIER;
  }

  @Override
  public boolean includeManifest() {
    return false;
  }

  @Override
  public byte[] toBinary(Object o) {
    Kryo kryo = kryos.obtain();
    try {
      Output out = new Output(256, -1);
      kryo.writeClassAndObject(out, o);
      return out.toBytes();
    } finally {
      kryos.free(kryo);
    }
  }

  @Override
  public Object fromBinaryJava(byte[] bytes, Class<?> manifest) {
    Kryo kryo = kryos.obtain();
    try {
      return kryo.readClassAndObject(new Input(bytes));
    } finally {
      kryos.free(kryo);
    }
  }

  private Kryo newKryo() {
    Kryo kryo = new Kryo();
    kryo.setRegistrationRequired(true);
    kryo.setReferences(false);
    for (Map.Entry<Integer, Class<?>> e : IDS.entrySet()) {
      Class<?> c = e.getValue();
      if (Message.class.isAssignableFrom(c)) {
        kryo.register(c, new ProtobufSerializer(c), e.getKey());
      } else {
        kryo.register(c, e.getKey());
      }
    }
    try {
      kryo.register(
          Class.forName(TYPED_REF_CLASS), new TypedActorRefSerializer(), TYPED_ACTOR_REF_ID);
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException("Pekko's typed ActorRef class moved: " + TYPED_REF_CLASS, e);
    }
    return kryo;
  }

  private ActorRefResolver resolver() {
    ActorRefResolver r = resolver;
    if (r == null) {
      r = ActorRefResolver.get(Adapter.toTyped(system));
      resolver = r;
    }
    return r;
  }

  /** Typed actor references as Pekko's own string format (address + path + uid). */
  private final class TypedActorRefSerializer extends Serializer<ActorRef<?>> {
    @Override
    public void write(Kryo kryo, Output output, ActorRef<?> ref) {
      output.writeString(resolver().toSerializationFormat(ref));
    }

    @Override
    public ActorRef<?> read(Kryo kryo, Input input, Class<? extends ActorRef<?>> type) {
      return resolver().resolveActorRef(input.readString());
    }
  }

  /** A protobuf message as its length-prefixed wire bytes. */
  private static final class ProtobufSerializer extends Serializer<Message> {
    private final Parser<?> parser;

    ProtobufSerializer(Class<?> type) {
      try {
        Message prototype = (Message) type.getMethod("getDefaultInstance").invoke(null);
        this.parser = prototype.getParserForType();
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException("not a generated protobuf class: " + type, e);
      }
    }

    @Override
    public void write(Kryo kryo, Output output, Message m) {
      byte[] b = m.toByteArray();
      output.writeVarInt(b.length, true);
      output.writeBytes(b);
    }

    @Override
    public Message read(Kryo kryo, Input input, Class<? extends Message> type) {
      int n = input.readVarInt(true);
      try {
        return (Message) parser.parseFrom(input.readBytes(n));
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        throw new IllegalArgumentException("corrupt protobuf in cluster message: " + type, e);
      }
    }
  }
}
