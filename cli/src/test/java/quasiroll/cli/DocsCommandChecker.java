package quasiroll.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/**
 * Finds every {@code quasiroll <command> [subcommand] --flag ...} written in a Markdown text and
 * checks it against picocli's model of {@link Main}: the command and subcommands must exist and
 * every option token must be one the resolved command accepts.
 *
 * <p>What counts as a written command: in fenced code blocks and in inline code spans, any {@code
 * ./quasiroll} or {@code quasiroll} followed by a space and a word; in prose, only {@code
 * ./quasiroll ...} (so the project's name in a sentence is not a command). A code line ending in a
 * backslash continues on the next line. The command line ends at a shell operator written as its
 * own token ({@code | > >> 2> < ; && || &}) or a {@code #} comment. Placeholders are allowed:
 * {@code [--flag X]} (brackets stripped), {@code --flag=value}, {@code ...}; a token starting with
 * {@code -} and a digit is a value (a negative number), not an option. A bare word after a command
 * that has subcommands and takes no positional parameters must name one of its subcommands.
 */
final class DocsCommandChecker {
  /** One problem: where, the command as written, and what is wrong. */
  record Problem(String source, int line, String command, String message) {
    @Override
    public String toString() {
      return source + ":" + line + ": `" + command + "`: " + message;
    }
  }

  private static final Pattern FENCE = Pattern.compile("^\\s*(```|~~~)");
  private static final Pattern INLINE_CODE = Pattern.compile("`([^`]+)`");
  private static final Pattern IN_CODE =
      Pattern.compile("(?<![\\w./-])(?:\\./)?quasiroll\\s+(?=[a-z-])");
  private static final Pattern IN_PROSE =
      Pattern.compile("(?<![\\w./-])\\./quasiroll\\s+(?=[a-z-])");
  private static final List<String> SHELL_OPERATORS =
      List.of("|", ">", ">>", "2>", "2>&1", "&>", "<", ";", "&&", "||", "&", "$", "$(");

  private final CommandLine root;
  private final List<String> seen = new ArrayList<>();

  DocsCommandChecker(CommandLine root) {
    this.root = root;
  }

  /** Checks one Markdown text; {@code source} names it in the problems. */
  List<Problem> check(String source, String markdown) {
    List<Problem> problems = new ArrayList<>();
    String[] lines = markdown.split("\n", -1);
    boolean inFence = false;
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i];
      if (FENCE.matcher(line).find()) {
        inFence = !inFence;
        continue;
      }
      if (inFence) {
        int first = i;
        StringBuilder joined = new StringBuilder(line);
        while (joined.toString().stripTrailing().endsWith("\\")
            && i + 1 < lines.length
            && !FENCE.matcher(lines[i + 1]).find()) {
          String s = joined.toString().stripTrailing();
          joined.setLength(0);
          joined.append(s, 0, s.length() - 1).append(' ').append(lines[++i]);
        }
        checkText(source, first + 1, joined.toString(), IN_CODE, problems);
      } else {
        Matcher code = INLINE_CODE.matcher(line);
        while (code.find()) {
          checkText(source, i + 1, code.group(1), IN_CODE, problems);
        }
        checkText(source, i + 1, INLINE_CODE.matcher(line).replaceAll(" "), IN_PROSE, problems);
      }
    }
    return problems;
  }

  private void checkText(
      String source, int line, String text, Pattern start, List<Problem> problems) {
    Matcher m = start.matcher(text);
    while (m.find()) {
      String rest = text.substring(m.end());
      List<String> tokens = tokens(rest);
      String written = (text.substring(m.start(), m.end()) + String.join(" ", tokens)).strip();
      seen.add(written);
      String message = checkTokens(tokens);
      if (message != null) {
        problems.add(new Problem(source, line, written, message));
      }
    }
  }

  /** The command's tokens, up to the first shell operator or comment. */
  private static List<String> tokens(String rest) {
    List<String> tokens = new ArrayList<>();
    for (String raw : rest.strip().split("\\s+")) {
      if (raw.isEmpty()) {
        continue;
      }
      if (SHELL_OPERATORS.contains(raw)
          || raw.startsWith("#")
          || raw.startsWith("2>")
          || raw.startsWith(">")
          || raw.startsWith("|")) {
        break;
      }
      tokens.add(raw);
    }
    return tokens;
  }

  /** Every command line checked so far, as written (for a test that the scan found them). */
  List<String> seen() {
    return List.copyOf(seen);
  }

  /** Null when the tokens name a real command with real options, else what is wrong. */
  private String checkTokens(List<String> tokens) {
    CommandLine current = root;
    for (String raw : tokens) {
      String token = stripPlaceholder(raw);
      if (token.isEmpty() || token.equals("...")) {
        continue;
      }
      if (token.startsWith("-")
          && token.length() > 1
          && !Character.isDigit(token.charAt(1))
          && !token.equals("--")) {
        String name = token.contains("=") ? token.substring(0, token.indexOf('=')) : token;
        if (!current.getCommandSpec().optionsMap().containsKey(name)) {
          return "unknown option "
              + name
              + " for '"
              + current.getCommandSpec().qualifiedName()
              + "' (accepted: "
              + accepted(current.getCommandSpec())
              + ")";
        }
        continue;
      }
      Map<String, CommandLine> subs = current.getSubcommands();
      if (subs.containsKey(token)) {
        current = subs.get(token);
      } else if (!subs.isEmpty()
          && current.getCommandSpec().positionalParameters().isEmpty()
          && looksLikeAWord(token)) {
        return "unknown command '"
            + token
            + "' after '"
            + current.getCommandSpec().qualifiedName()
            + "' (commands: "
            + String.join(", ", subs.keySet())
            + ")";
      }
      // Anything else is an option's value or a positional parameter.
    }
    return null;
  }

  /** A plain lower-case word (a command name as written), not a value like 'models/demo'. */
  private static boolean looksLikeAWord(String token) {
    return token.matches("[a-z][a-z0-9-]*");
  }

  private static String stripPlaceholder(String raw) {
    String t = raw;
    while (!t.isEmpty() && "[(\"'".indexOf(t.charAt(0)) >= 0) {
      t = t.substring(1);
    }
    while (!t.isEmpty() && "])\"',".indexOf(t.charAt(t.length() - 1)) >= 0) {
      t = t.substring(0, t.length() - 1);
    }
    return t;
  }

  private static String accepted(CommandSpec spec) {
    return spec.options().stream()
        .map(o -> String.join("/", o.names()))
        .sorted()
        .collect(Collectors.joining(", "));
  }
}
