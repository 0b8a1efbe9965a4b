package quasiroll.worker.cluster;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import java.util.List;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.JSerializer;

/**
 * Serializes quasiroll's cluster messages with Kryo 5, registration REQUIRED: only the
 * classes in {@link #REGISTERED} (with fixed ids, so every node agrees) can be written or
 * read, and anything else is refused. Deserializing attacker-chosen classes is a
 * remote-code-execution hole, which is also why Java serialization is switched off in the
 * cluster configuration.
 *
 * <p>Protobuf messages inside cluster messages are written as their own bytes; typed actor
 * references as Pekko's serialization format (resolved with {@link ActorRefResolver}).
 */
public final class KryoClusterSerializer extends JSerializer {
  /** Pekko serializer id; must be unique among the system's serializers. */
  public static final int IDENTIFIER = 7_461_001;

  /** Every class that may cross the network, in registration-id order (ids from 100). */
  public static final List<Class<?>> REGISTERED =
      List.of(
          RegisterWorker.class,
          Welcome.class,
          RequestWork.class,
          AssignShard.class,
          CancelJobWork.class,
          WorkerInfo.class,
          ShardTask.class,
          int[].class,
          quasiroll.v1.SamplerSpec.class,
          quasiroll.v1.DecodeParams.class,
          LoadPolicy.class,
          AbortOlderVersions.class,
          PolicyLoaded.class,
          String[].class,
          long[].class);

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
    int id = 100;
    for (Class<?> c : REGISTERED) {
      if (Message.class.isAssignableFrom(c)) {
        kryo.register(c, new ProtobufSerializer(c), id++);
      } else {
        kryo.register(c, id++);
      }
    }
    try {
      kryo.register(Class.forName(TYPED_REF_CLASS), new TypedActorRefSerializer(), id);
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
