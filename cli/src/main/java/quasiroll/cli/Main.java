package quasiroll.cli;

import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import quasiroll.common.error.BadInputException;

/**
 * The {@code quasiroll} command. Exit codes: 0 ok, 2 usage error or bad input (the message names
 * the bad flag or value), 1 runtime failure. Set QUASIROLL_DEBUG=1 for stack traces.
 */
@Command(
    name = "quasiroll",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Distributed LLM rollouts with quasi-Monte-Carlo coupled sampling.",
    subcommandsRepeatable = false)
public final class Main implements Runnable {
  static final int EXIT_OK = 0;
  static final int EXIT_RUNTIME = 1;
  static final int EXIT_USAGE = 2;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** Every subcommand, in the order {@code --help} lists them. */
  static List<Object> subcommands() {
    return List.of(
        new TasksCommand(),
        new PointsCommand(),
        new SampleCommand(),
        new InspectCommand(),
        new FixtureCommand(),
        new CoordinatorNodeCommand(),
        new WorkerNodeCommand(),
        new SubmitCommand(),
        new StatusCommand(),
        new CancelCommand(),
        new PolicyCommand(),
        new DemoCommand(),
        new SweepCommand());
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(execute(args));
  }

  /** Runs the CLI and returns the exit code (tests call this instead of main). */
  public static int execute(String... args) {
    CommandLine cli = commandLine();
    return cli.execute(args);
  }

  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    for (Object sub : subcommands()) {
      cli.addSubcommand(sub);
    }
    cli.setExitCodeExceptionMapper(e -> e instanceof BadInputException ? EXIT_USAGE : EXIT_RUNTIME);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (System.getenv("QUASIROLL_DEBUG") != null) {
            e.printStackTrace();
          }
          String what = e instanceof BadInputException ? "error" : "failed";
          commandLine.getErr().println("quasiroll: " + what + ": " + messageOf(e));
          return e instanceof BadInputException ? EXIT_USAGE : EXIT_RUNTIME;
        });
    cli.setParameterExceptionHandler(
        (e, args) -> {
          CommandLine c = e.getCommandLine();
          c.getErr().println("quasiroll: usage error: " + e.getMessage());
          c.getErr().println("Run '" + c.getCommandSpec().qualifiedName() + " --help' for usage.");
          return EXIT_USAGE;
        });
    return cli;
  }

  private static String messageOf(Throwable e) {
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"quasiroll " + (v == null ? "0.1.0-SNAPSHOT" : v)};
    }
  }
}
