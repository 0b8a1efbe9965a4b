package quasiroll.worker.model.gguf;

/** GGUF metadata value type ids ({@code enum gguf_type}, GGUF spec). */
enum GgufValueType {
  UINT8(1),
  INT8(1),
  UINT16(2),
  INT16(2),
  UINT32(4),
  INT32(4),
  FLOAT32(4),
  BOOL(1),
  STRING(8),
  ARRAY(12),
  UINT64(8),
  INT64(8),
  FLOAT64(8);

  /** Fewest bytes a value of this type occupies (for sanity-checking array counts). */
  final int minBytes;

  GgufValueType(int minBytes) {
    this.minBytes = minBytes;
  }

  static GgufValueType of(int id) {
    GgufValueType[] all = values();
    return id >= 0 && id < all.length ? all[id] : null;
  }
}
