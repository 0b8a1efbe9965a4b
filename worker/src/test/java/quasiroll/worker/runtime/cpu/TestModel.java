package quasiroll.worker.runtime.cpu;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashMap;
import java.util.Map;
import quasiroll.worker.model.DType;
import quasiroll.worker.model.DTypeCodec;
import quasiroll.worker.model.ModelConfig;
import quasiroll.worker.model.RopeFrequencies;
import quasiroll.worker.model.TensorData;
import quasiroll.worker.model.fixture.TinyModel;
import quasiroll.worker.model.fixture.TinyModelSpec;

/**
 * A loaders' fixture model held in memory as a loader would hand it over (matrices encoded in one
 * dtype, norms and biases F32, heap buffers), plus the values the encoding decodes to (by the
 * loaders' reference codec), which is what {@link ReferenceLlama} computes with.
 */
final class TestModel {
  final ModelConfig config;
  final Map<String, TensorData> tensors = new HashMap<>();
  final Map<String, float[]> values = new HashMap<>();
  final DType dtype;

  TestModel(TinyModelSpec spec, DType dtype) {
    TinyModel m = TinyModel.generate(spec);
    this.config = m.config();
    this.dtype = dtype;
    for (Map.Entry<String, float[]> e : m.weights().entrySet()) {
      long[] shape = m.shape(e.getKey());
      put(e.getKey(), shape.length == 1 ? DType.F32 : dtype, shape, e.getValue());
    }
  }

  void put(String name, DType dtype, long[] shape, float[] v) {
    ByteBuffer b = ByteBuffer.wrap(DTypeCodec.encode(dtype, v)).order(ByteOrder.LITTLE_ENDIAN);
    tensors.put(name, new TensorData(name, dtype, shape, MemorySegment.ofBuffer(b).asReadOnly()));
    values.put(name, DTypeCodec.decode(dtype, b, v.length));
  }

  /** The double-precision specification of this model's forward pass. */
  ReferenceLlama reference() {
    return new ReferenceLlama(config, values, dtype == DType.Q8_0 || dtype == DType.Q4_0);
  }

  /** Every parallel loop really runs on {@code threads} threads, however small the model. */
  CpuBackend backend(int threads, long budget) {
    return new CpuBackend(
        "test",
        config,
        tensors,
        RopeFrequencies.inverse(config),
        new WorkerPool(threads, 0),
        budget);
  }
}
