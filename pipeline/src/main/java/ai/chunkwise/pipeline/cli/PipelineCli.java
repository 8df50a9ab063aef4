package ai.chunkwise.pipeline.cli;

import ai.chunkwise.pipeline.format.DatasetInspector;
import ai.chunkwise.pipeline.format.DatasetLocation;
import ai.chunkwise.pipeline.runner.PipelineRunner;
import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.pipeline.runner.PipelineSettings;
import ai.chunkwise.pipeline.runner.StepFailedException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code java -jar pipeline.jar inspect <dataset>}: prints a verified summary of a dataset as JSON;
 * {@code run <pipeline.conf>}: tokenize -> verify -> train ({@link PipelineRunner}).
 * Failures print one line ({@code error: ...}); {@code --verbose} adds the stack trace. Exit codes: {@link ExitCodes}
 * (a failed step's own code is passed on).
 */
@Command(name = "chunkwise-pipeline", mixinStandardHelpOptions = true, versionProvider = ChunkwiseVersion.Provider.class,
        description = "Chunkwise dataset tools.", subcommands = {PipelineCli.Inspect.class, PipelineCli.Run.class})
public final class PipelineCli implements Callable<Integer> {

    /** Exit code for a dataset that is missing, incomplete or corrupt: bad input, like every jar's (ExitCodes). */
    public static final int EXIT_BAD_DATASET = ExitCodes.BAD_INPUT;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces on errors.")
    boolean verbose;

    /** Without a subcommand: the list of commands. */
    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getOut());
        return ExitCodes.OK;
    }

    public static void main(String[] args) {
        // Arrow logs its allocator choice at INFO; a CLI's stderr is for the user's errors only
        if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
            System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        }
        // Hadoop's client warns on every start that it has no native library; it needs none to read datasets
        System.setProperty("org.slf4j.simpleLogger.log.org.apache.hadoop.util.NativeCodeLoader", "error");
        System.exit(run(System.out, System.err, args));
    }

    /** Runs the CLI with the given streams and returns the exit code (testable without System.exit). */
    public static int run(PrintStream out, PrintStream err, String... args) {
        PipelineCli app = new PipelineCli();
        CommandLine cmd = new CommandLine(app);
        cmd.setOut(new PrintWriter(out, true));
        cmd.setErr(new PrintWriter(err, true));
        cmd.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            boolean verbose = parseResult.matchedOption("--verbose") != null
                    || (parseResult.subcommand() != null && parseResult.subcommand().matchedOption("--verbose") != null);
            err.println("error: " + e.getMessage());
            if (verbose) {
                e.printStackTrace(err);
            }
            if (e instanceof StepFailedException f) {
                return f.exitCode() > 0 ? f.exitCode() : ExitCodes.FAILED;   // the step's own code
            }
            return ExitCodes.of(e);
        });
        cmd.setParameterExceptionHandler((e, args2) -> {
            err.println("error: " + e.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, new PrintWriter(err, true))) {
                err.println("(" + e.getCommandLine().getCommandSpec().qualifiedName() + " --help lists the options)");
            }
            return ExitCodes.BAD_INPUT;
        });
        return cmd.execute(args);
    }

    @Command(name = "inspect", mixinStandardHelpOptions = true,
            description = "Verify a dataset (manifest, checksums, schema) and print its summary as JSON.")
    static final class Inspect implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "<dataset>", description = "Dataset directory (contains manifest.json): a "
                + "local path or any Hadoop file system path (file:/..., hdfs://..., s3a://...).")
        String dataset;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            spec.commandLine().getOut().println(DatasetInspector.summaryJson(dataset,
                    ai.chunkwise.pipeline.format.DatasetLocation.environmentConfiguration()));
            spec.commandLine().getOut().flush();
            return 0;
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = "Run the pipeline tokenize -> verify -> train described by a configuration file "
                    + "(keys: conf/pipeline.conf); a complete dataset is not rebuilt, training resumes.")
    static final class Run implements Callable<Integer> {

        // a String: a picocli Path would turn hdfs://host:8020/x into hdfs:/host:8020/x
        @Parameters(index = "0", paramLabel = "<pipeline.conf>",
                description = "Pipeline configuration (HOCON), local or any Hadoop file system path.")
        String conf;

        @Override
        public Integer call() {
            Path file = Locations.fetch("<pipeline.conf>", conf, DatasetLocation.environmentConfiguration());
            new PipelineRunner(PipelineSettings.load(file), Path.of("").toAbsolutePath(), System.out, System.err).run();
            return 0;
        }
    }
}
