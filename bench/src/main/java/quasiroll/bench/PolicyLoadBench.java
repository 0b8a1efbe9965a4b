package quasiroll.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import quasiroll.common.coupling.CouplingNoiseFactory;
import quasiroll.worker.engine.ShardDecoder;
import quasiroll.worker.load.BackendLoader;
import quasiroll.worker.load.WorkerSettings;
import quasiroll.worker.model.LoadedModel;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.ModelTensors;
import quasiroll.worker.policy.PolicyVersions;
import quasiroll.worker.runtime.ModelBackend;

/**
 * How fast a worker takes a full published policy of about 1 GB (F32) from the page cache: {@link
 * PolicyVersions#load} (open, map, check every tensor against the model, build the backend) and
 * then one read of every weight byte (what the first decode step would fault in), against a plain
 * sequential read of the same file in the same run as the baseline.
 *
 * <p>usage: PolicyLoadBench [--dir DIR] [--layers N] [--repeats R]. The model (the demo model's
 * tokenizer and vocabulary, hidden 2048, 5 layers: 1.01 GB) is generated once into DIR and reused.
 */
public final class PolicyLoadBench {
  private static final WorkerSettings SETTINGS = new WorkerSettings(1, 1L << 30);

  private PolicyLoadBench() {}

  public static void main(String[] args) throws Exception {
    Path dir = Path.of("bench/target/policy-load");
    int layers = 5;
    int repeats = 3;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--dir" -> dir = Path.of(args[++i]);
        case "--layers" -> layers = Integer.parseInt(args[++i]);
        case "--repeats" -> repeats = Integer.parseInt(args[++i]);
        default ->
            throw new IllegalArgumentException(
                "unknown option " + args[i] + ": expected --dir, --layers, --repeats");
      }
    }
    Path model = dir.resolve("model");
    Path published = dir.resolve("published.safetensors");
    if (!Files.exists(published)) {
      generate(model, published, layers);
    }
    long bytes = Files.size(published);
    LoadedModel base = BackendLoader.openWeights(model.toString());
    PolicyVersions versions =
        new PolicyVersions(
            "bench",
            base,
            weights -> {
              ModelBackend backend = BackendLoader.backend("bench", weights, "cpu", SETTINGS);
              ShardDecoder d =
                  new ShardDecoder(backend, weights.tokenizer(), CouplingNoiseFactory.INSTANCE, 1);
              return new PolicyVersions.Runner(
                  d,
                  () -> {
                    d.close();
                    backend.close();
                  });
            },
            0);
    Set<String> names = versions.signature().keySet();
    Map<String, Path> manifest = new LinkedHashMap<>();
    names.forEach(n -> manifest.put(n, published));
    readAll(published); // into the page cache
    System.out.printf(
        "policy file %s: %.3f GB, %d tensors%n", published, bytes / 1e9, names.size());
    for (int r = 0; r < repeats; r++) {
      long t0 = System.nanoTime();
      long sum = readAll(published);
      double readS = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      versions.load(r + 1, manifest, names, false, Set.of());
      double loadS = (System.nanoTime() - t0) / 1e9;
      long t1 = System.nanoTime();
      long touched = touch(published);
      double touchS = (System.nanoTime() - t1) / 1e9;
      double total = loadS + touchS;
      System.out.printf(
          "repeat %d: sequential read %.2f GB/s (%.3f s) | load to ready %.3f s | load + read every"
              + " weight %.3f s = %.2f GB/s (%.2fx the sequential read) [%d %d]%n",
          r,
          bytes / 1e9 / readS,
          readS,
          loadS,
          total,
          bytes / 1e9 / total,
          readS / total,
          sum & 1,
          touched & 1);
      versions.retain(Set.of(), r + 1);
    }
    versions.close();
  }

  /** Reads the file once through a direct buffer (the page-cache baseline). */
  private static long readAll(Path file) throws IOException {
    long sum = 0;
    ByteBuffer buf = ByteBuffer.allocateDirect(8 << 20).order(ByteOrder.LITTLE_ENDIAN);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      while (ch.read(buf) >= 0) {
        buf.flip();
        while (buf.remaining() >= 8) {
          sum += buf.getLong();
        }
        buf.clear();
        if (ch.position() >= ch.size()) {
          break;
        }
      }
    }
    return sum;
  }

  /** Reads every byte of the published file through a mapping, as the version's tensors do. */
  private static long touch(Path file) throws IOException {
    long sum = 0;
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      long size = ch.size();
      for (long pos = 0; pos < size; pos += 1L << 30) {
        MappedByteBuffer m =
            ch.map(FileChannel.MapMode.READ_ONLY, pos, Math.min(1L << 30, size - pos));
        m.order(ByteOrder.LITTLE_ENDIAN);
        while (m.remaining() >= 8) {
          sum += m.getLong();
        }
      }
    }
    return sum;
  }

  private static void generate(Path model, Path published, int layers) throws IOException {
    Path demo = Path.of("models/demo");
    Files.createDirectories(model);
    for (String f : List.of("tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
      Files.copy(demo.resolve(f), model.resolve(f), StandardCopyOption.REPLACE_EXISTING);
    }
    ObjectMapper json = new ObjectMapper();
    ObjectNode cfg = (ObjectNode) json.readTree(demo.resolve("config.json").toFile());
    cfg.put("hidden_size", 2048)
        .put("intermediate_size", 5504)
        .put("num_hidden_layers", layers)
        .put("num_attention_heads", 16)
        .put("num_key_value_heads", 16)
        .put("head_dim", 128);
    json.writeValue(model.resolve("config.json").toFile(), cfg);
    ModelConfig probe =
        quasiroll.worker.model.hf.HfConfigParser.parse(
            model.resolve("config.json"),
            cfg,
            cfg.get("bos_token_id").asInt(),
            Set.of(cfg.get("eos_token_id").asInt()));
    Map<String, long[]> shapes = ModelTensors.expected(probe);
    writeRandom(shapes, model.resolve("model.safetensors"), 1);
    writeRandom(shapes, published, 2);
  }

  /** Small random F32 weights, written tensor by tensor (never the whole file in memory). */
  private static void writeRandom(Map<String, long[]> shapes, Path file, long seed)
      throws IOException {
    ObjectMapper json = new ObjectMapper();
    ObjectNode header = json.createObjectNode();
    long offset = 0;
    for (var e : shapes.entrySet()) {
      long n = 1;
      for (long d : e.getValue()) {
        n *= d;
      }
      ObjectNode t = header.putObject(e.getKey());
      t.put("dtype", "F32");
      var shape = t.putArray("shape");
      for (long d : e.getValue()) {
        shape.add(d);
      }
      t.putArray("data_offsets").add(offset).add(offset + 4 * n);
      offset += 4 * n;
    }
    byte[] h = json.writeValueAsBytes(header);
    int padded = (h.length + 7) / 8 * 8;
    SplittableRandom rng = new SplittableRandom(seed);
    try (OutputStream out =
        new java.io.BufferedOutputStream(Files.newOutputStream(file), 1 << 20)) {
      out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(padded).array());
      out.write(h);
      out.write(" ".repeat(padded - h.length).getBytes());
      ByteBuffer buf = ByteBuffer.allocate(1 << 20).order(ByteOrder.LITTLE_ENDIAN);
      for (var e : shapes.entrySet()) {
        long n = 1;
        for (long d : e.getValue()) {
          n *= d;
        }
        float scale = e.getKey().endsWith("norm.weight") ? 0f : 0.02f;
        for (long i = 0; i < n; i++) {
          buf.putFloat(scale == 0f ? 1f : (float) (rng.nextDouble() - 0.5) * scale);
          if (!buf.hasRemaining()) {
            out.write(buf.array(), 0, buf.position());
            buf.clear();
          }
        }
        out.write(buf.array(), 0, buf.position());
        buf.clear();
      }
    }
  }
}
