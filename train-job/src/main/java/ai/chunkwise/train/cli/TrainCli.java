package ai.chunkwise.train.cli;

import ai.chunkwise.train.backend.GpuSupportCheck;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * Entry point of train-job.jar. Subcommands: {@code grad} (loss and gradients of one batch, for checking
 * against another framework).
 *
 * <p>Threads: ND4J reads OMP_NUM_THREADS when it loads, so it must be set in the environment of the java
 * process. On a 2-core machine OMP_NUM_THREADS=1 is faster than ND4J's default for chunk-sized work
 * (OpenMP and OpenBLAS threads oversubscribe the cores; docs/dl4j-m2.1.md).
 */
@Command(name = "train-job", mixinStandardHelpOptions = true, version = "chunkwise train-job 0.1.0",
        description = "Chunk-wise (SeCO / SpaCO) training of Llama models on ND4J/SameDiff.",
        subcommands = {GradCommand.class, TrainCommand.class, EvalCommand.class},
        footer = {"", "Set OMP_NUM_THREADS (and OPENBLAS_NUM_THREADS) before starting java, e.g. "
                + "OMP_NUM_THREADS=1 on 2 cores: ND4J reads them once, when it loads."})
public final class TrainCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (try: grad --help)");
    }

    public static void main(String[] args) {
        try {
            GpuSupportCheck.requireSupportedGpu();   // before ND4J loads: its CUDA build fails obscurely on new GPUs
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
        System.exit(commandLine().execute(args));
    }

    /** The configured picocli command line (also what the tests drive). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new TrainCli());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // a bad input is the user's to fix: print the message that names it, not a stack trace
            if (e instanceof IllegalArgumentException || e instanceof java.io.UncheckedIOException
                    || e instanceof ai.chunkwise.pipeline.format.DatasetException
                    || e instanceof com.typesafe.config.ConfigException) {
                commandLine.getErr().println("error: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli;
    }
}
