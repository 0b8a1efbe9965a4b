package quasiroll.worker.model.gguf;

import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import quasiroll.common.error.BadInputException;

/**
 * The key/value metadata of a GGUF file. Values are Integer (u8, i8, u16, i16, i32), Long (u32,
 * u64, i64), Float, Double, Boolean, String, or List of those (arrays). Getters convert between
 * numeric types and fail with a {@link BadInputException} naming the file and key.
 */
public final class GgufMetadata {
  private final Path path;
  private final Map<String, Object> values;

  GgufMetadata(Path path, Map<String, Object> values) {
    this.path = path;
    this.values = Collections.unmodifiableMap(values);
  }

  public Map<String, Object> asMap() {
    return values;
  }

  public boolean has(String key) {
    return values.containsKey(key);
  }

  public Object get(String key) {
    return values.get(key);
  }

  private Object require(String key) {
    Object v = values.get(key);
    if (v == null) {
      throw new BadInputException(path + ": GGUF metadata key '" + key + "' is missing");
    }
    return v;
  }

  private Number number(String key, Object v) {
    if (v instanceof Number n) {
      return n;
    }
    throw new BadInputException(
        path + ": GGUF metadata '" + key + "' should be a number but is " + describe(v));
  }

  public long getLong(String key) {
    return number(key, require(key)).longValue();
  }

  public int getInt(String key) {
    long v = getLong(key);
    if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
      throw new BadInputException(path + ": GGUF metadata '" + key + "' = " + v + " out of range");
    }
    return (int) v;
  }

  public int getInt(String key, int dflt) {
    return has(key) ? getInt(key) : dflt;
  }

  /**
   * A float32 value is widened through its shortest decimal form, so 1e-5 stored as f32 reads as
   * 1e-5 (as the HF config that was converted said) rather than 9.99999974e-6.
   */
  public double getDouble(String key) {
    Number n = number(key, require(key));
    return n instanceof Float f ? Double.parseDouble(Float.toString(f)) : n.doubleValue();
  }

  public double getDouble(String key, double dflt) {
    return has(key) ? getDouble(key) : dflt;
  }

  public boolean getBool(String key, boolean dflt) {
    Object v = values.get(key);
    if (v == null) {
      return dflt;
    }
    if (v instanceof Boolean b) {
      return b;
    }
    throw new BadInputException(path + ": GGUF metadata '" + key + "' should be a bool");
  }

  public String getString(String key) {
    Object v = require(key);
    if (v instanceof String s) {
      return s;
    }
    throw new BadInputException(
        path + ": GGUF metadata '" + key + "' should be a string but is " + describe(v));
  }

  public String getString(String key, String dflt) {
    return has(key) ? getString(key) : dflt;
  }

  public List<?> getArray(String key) {
    Object v = require(key);
    if (v instanceof List<?> l) {
      return l;
    }
    throw new BadInputException(
        path + ": GGUF metadata '" + key + "' should be an array but is " + describe(v));
  }

  @SuppressWarnings("unchecked")
  public List<String> getStringArray(String key) {
    List<?> l = getArray(key);
    for (Object o : l) {
      if (!(o instanceof String)) {
        throw new BadInputException(path + ": GGUF metadata '" + key + "' should hold strings");
      }
    }
    return (List<String>) l;
  }

  public int[] getIntArray(String key) {
    List<?> l = getArray(key);
    int[] out = new int[l.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = number(key, l.get(i)).intValue();
    }
    return out;
  }

  static String describe(Object v) {
    if (v instanceof List<?> l) {
      return "an array of " + l.size();
    }
    return v.getClass().getSimpleName() + " " + v;
  }
}
