package quasiroll.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code quasiroll tasks}: the verifiable tasks (generate instances, score completions). */
@Command(
    name = "tasks",
    mixinStandardHelpOptions = true,
    description = "Verifiable tasks: generate seeded instances, score completions.",
    subcommands = {TasksGenerateCommand.class, TasksVerifyCommand.class})
public final class TasksCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
