package ai.chunkwise.train.cli;

import ai.chunkwise.train.backend.CpuBuild;
import ai.chunkwise.train.backend.GpuSupportCheck;
import ai.chunkwise.pipeline.cli.ChunkwiseVersion;
import ai.chunkwise.train.memory.MemoryBudget;
import ai.chunkwise.train.memory.OutOfMemory;
import ai.chunkwise.pipeline.cli.ExitCodes;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.concurrent.Callable;

/**
 * Entry point of train-job.jar. Subcommands: {@code train}, {@code eval} (perplexity over a dataset), {@code grad}
 * (loss and gradients of one batch, for checking against another framework), {@code doctor} (backend, memory and
 * a float64 gradient check); none lists them.
 *
 * <p>Threads: ND4J reads OMP_NUM_THREADS when it loads, so it must be set in the environment of the java
 * process. On a 2-core machine OMP_NUM_THREADS=1 is faster than ND4J's default for chunk-sized work
 * (OpenMP and OpenBLAS threads oversubscribe the cores; docs/dl4j-m2.1.md).
 */
@Command(name = "train-job", mixinStandardHelpOptions = true, versionProvider = ChunkwiseVersion.Provider.class,
        description = "Chunk-wise (SeCO / SpaCO) training of Llama models on ND4J/SameDiff.",
        subcommands = {TrainCommand.class, EvalCommand.class, GradCommand.class, DoctorCommand.class},
        footer = {"", "Set OMP_NUM_THREADS (and OPENBLAS_NUM_THREADS) before starting java, e.g. "
                + "OMP_NUM_THREADS=1 on 2 cores: ND4J reads them once, when it loads."})
public final class TrainCli implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT,
            description = "Print the stack trace of an error, and the libraries' start-up logging (ND4J, Arrow), "
                    + "hidden by default.")
    boolean verbose;

    /** Without a subcommand: the list of commands. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return 0;
    }

    /**
     * Also the entry point under spark-submit ({@code --class ai.chunkwise.train.cli.TrainCli}), where the trainer runs
     * inside the Spark driver. There success returns normally instead of calling System.exit(0): in cluster deploy
     * mode Spark marks an application that exits the JVM itself as FAILED (and may retry it). Failures still end
     * the JVM with the non-zero code, after the error line went to stderr (the driver log).
     */
    public static void main(String[] args) {
        CpuBuild.select();   // before ND4J loads: oneDNN/AVX2 where the CPU has it, the plain build elsewhere
        QuietLogging.configure(args);   // before anything loads ND4J
        int code;
        try {
            if (args.length == 0 || !args[0].equals("doctor")) {   // doctor reports an unsupported GPU itself
                GpuSupportCheck.requireSupportedGpu();   // before ND4J loads: its CUDA build fails obscurely on new GPUs
            }
            code = commandLine().execute(args);
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            code = ExitCodes.FAILED;
        }
        if (code != 0 || !ai.chunkwise.train.data.HadoopEnvironment.underSparkSubmit()) {
            System.exit(code);
        }
    }

    /** The configured picocli command line (also what the tests drive). */
    public static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new TrainCli());
        // an OutOfMemoryError is an Error, which picocli passes through instead of to the exception handler
        cli.setExecutionStrategy(parseResult -> {
            try {
                return new CommandLine.RunLast().execute(parseResult);
            } catch (Error e) {
                OutOfMemoryError oom = OutOfMemory.find(e).orElseThrow(() -> e);
                parseResult.commandSpec().commandLine().getErr().println("error: "
                        + OutOfMemory.message(oom, MemoryBudget.current()));
                return OutOfMemory.EXIT_CODE;
            }
        });
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            // out of memory, wrapped (ND4J wraps native failures): the budget and what to change, not a stack trace
            if (OutOfMemory.find(e).isPresent()) {
                commandLine.getErr().println("error: " + OutOfMemory.message(OutOfMemory.find(e).get(),
                        MemoryBudget.current()));
                return OutOfMemory.EXIT_CODE;
            }
            // one line naming what to fix; the stack trace only with --verbose (or for a bug, with a hint)
            int code = e instanceof ai.chunkwise.train.reliability.TrainingDivergedException ? ExitCodes.DIVERGED
                    : ExitCodes.of(e);
            boolean ours = code != ExitCodes.FAILED || e instanceof java.io.UncheckedIOException
                    || e instanceof IllegalStateException;
            java.io.PrintWriter err = commandLine.getErr();
            err.println("error: " + (ours || e.getMessage() == null ? "" : e.getClass().getSimpleName() + ": ")
                    + e.getMessage());
            if (verbose(parseResult)) {
                e.printStackTrace(err);
            } else if (!ours) {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return code;
        });
        cli.setParameterExceptionHandler((e, args) -> {
            java.io.PrintWriter err = e.getCommandLine().getErr();
            err.println("error: " + e.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
                err.println("(" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help lists the options)");
            }
            err.flush();
            return ExitCodes.BAD_INPUT;
        });
        return cli;
    }

    private static boolean verbose(CommandLine.ParseResult result) {
        for (CommandLine.ParseResult r = result; r != null; r = r.subcommand()) {
            if (r.matchedOption("--verbose") != null) {
                return true;
            }
        }
        return false;
    }
}
