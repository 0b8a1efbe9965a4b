package quasiroll.common.task.countdown;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;

/**
 * A small recursive-descent parser and exact evaluator for Countdown answers: non-negative integer
 * literals, binary {@code + - * /}, parentheses, whitespace. Nothing else (no unary minus, no
 * decimals, no other operators) is accepted.
 *
 * <pre>
 * expr   := term (('+' | '-') term)*
 * term   := factor (('*' | '/') factor)*
 * factor := digits | '(' expr ')'
 * </pre>
 *
 * Arithmetic is exact ({@link BigInteger}); a division must leave no remainder (Countdown's rule:
 * no fractions anywhere), and division by zero is an error. Input length and nesting are bounded so
 * that hostile completions cannot exhaust the stack.
 */
public final class ArithmeticExpression {
  static final int MAX_LENGTH = 512;
  static final int MAX_DEPTH = 64;

  /** Literals longer than this are rejected (no task uses them; keeps BigInteger cheap). */
  static final int MAX_LITERAL_DIGITS = 18;

  /** A successfully evaluated expression: its value and every literal in order of use. */
  public record Value(BigInteger value, List<BigInteger> literals) {
    public Value {
      literals = List.copyOf(literals);
    }
  }

  private final String s;
  private final List<BigInteger> literals = new ArrayList<>();
  private int pos;
  private int depth;

  private ArithmeticExpression(String s) {
    this.s = s;
  }

  /** The value and literals of {@code text}, or empty if it is not a valid expression. */
  public static Optional<Value> evaluate(String text) {
    if (text.length() > MAX_LENGTH) {
      return Optional.empty();
    }
    ArithmeticExpression p = new ArithmeticExpression(text);
    try {
      BigInteger v = p.expr();
      p.skipSpace();
      if (p.pos != text.length()) {
        return Optional.empty();
      }
      return Optional.of(new Value(v, Collections.unmodifiableList(p.literals)));
    } catch (Invalid e) {
      return Optional.empty();
    }
  }

  private BigInteger expr() {
    BigInteger v = term();
    while (true) {
      skipSpace();
      if (peek('+')) {
        pos++;
        v = v.add(term());
      } else if (peek('-')) {
        pos++;
        v = v.subtract(term());
      } else {
        return v;
      }
    }
  }

  private BigInteger term() {
    BigInteger v = factor();
    while (true) {
      skipSpace();
      if (peek('*')) {
        pos++;
        v = v.multiply(factor());
      } else if (peek('/')) {
        pos++;
        BigInteger d = factor();
        if (d.signum() == 0) {
          throw new Invalid();
        }
        BigInteger[] qr = v.divideAndRemainder(d);
        if (qr[1].signum() != 0) {
          throw new Invalid();
        }
        v = qr[0];
      } else {
        return v;
      }
    }
  }

  private BigInteger factor() {
    skipSpace();
    if (peek('(')) {
      if (++depth > MAX_DEPTH) {
        throw new Invalid();
      }
      pos++;
      BigInteger v = expr();
      skipSpace();
      if (!peek(')')) {
        throw new Invalid();
      }
      pos++;
      depth--;
      return v;
    }
    int start = pos;
    while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
      pos++;
    }
    if (pos == start || pos - start > MAX_LITERAL_DIGITS) {
      throw new Invalid();
    }
    BigInteger v = new BigInteger(s.substring(start, pos));
    literals.add(v);
    return v;
  }

  private boolean peek(char c) {
    return pos < s.length() && s.charAt(pos) == c;
  }

  private void skipSpace() {
    while (pos < s.length() && Character.isWhitespace(s.charAt(pos))) {
      pos++;
    }
  }

  /** Control flow for "not a valid expression"; never escapes this class. */
  private static final class Invalid extends RuntimeException {
    Invalid() {
      super(null, null, false, false);
    }
  }
}
