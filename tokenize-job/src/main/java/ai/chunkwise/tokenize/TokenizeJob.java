package ai.chunkwise.tokenize;

import ai.chunkwise.pipeline.cli.ChunkwiseVersion;
import ai.chunkwise.pipeline.cli.ExitCodes;
import ai.chunkwise.pipeline.storage.Locations;
import ai.chunkwise.tokenize.config.TokenizeSettings;
import ai.chunkwise.tokenize.output.VersionPlan;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Tokenizes and packs documents into a Chunkwise dataset (Arrow shards + manifest.json).
 * <pre>
 * java -jar tokenize-job/target/tokenize-job.jar --conf conf/tokenize-europarl.conf     (embedded local[*])
 * spark-submit --class ai.chunkwise.tokenize.TokenizeJob --master yarn tokenize-job/target/tokenize-job.jar \
 *   --input hdfs:///corpus/*.jsonl --format jsonl --output hdfs:///datasets/x --tokenizer tiktoken:o200k_base \
 *   --chunk-size 1024 --chunks-per-seq 8
 * </pre>
 * Exit codes ({@link ExitCodes}, README "Exit codes"): 0 done or nothing to do, 1 failed while running, 2 bad usage
 * or input; errors are one line on stderr, --verbose adds the stack trace.
 */
@Command(name = "tokenize-job", mixinStandardHelpOptions = true, sortOptions = false, usageHelpAutoWidth = true,
        versionProvider = ChunkwiseVersion.Provider.class,
        description = {"Tokenizes documents with Spark and packs them into chunk-aligned Arrow shards.",
                "Every option can also be set in a HOCON file (--conf) under tokenize { ... }; the command line wins.",
                "Defaults: conf/tokenize.conf."})
public final class TokenizeJob implements Callable<Integer> {

    @Option(names = "--input", paramLabel = "PATH", description = "Input file, directory or glob (any Hadoop file system).")
    String input;
    @Option(names = "--format", paramLabel = "FORMAT", description = "text | lines | jsonl | parquet")
    String format;
    @Option(names = "--text-field", paramLabel = "NAME", description = "JSON field / Parquet column with the text (default text).")
    String textField;
    @Option(names = "--output", paramLabel = "DIR", description = "Output dataset directory.")
    String output;
    @Option(names = "--tokenizer", paramLabel = "SPEC",
            description = "tiktoken:r50k_base|p50k_base|p50k_edit|cl100k_base|o200k_base, hf:/path/tokenizer.json, or bytes.")
    String tokenizer;
    @Option(names = "--bos-token", paramLabel = "TOKEN",
            description = "hf: tokenizers: the BOS token string (default: bos_token of tokenizer_config.json beside tokenizer.json).")
    String bosToken;
    @Option(names = "--eos-token", paramLabel = "TOKEN", description = "hf: tokenizers: the EOS token string (default: eos_token).")
    String eosToken;
    @Option(names = "--pad-token", paramLabel = "TOKEN", description = "hf: tokenizers: the pad token string (default: pad_token, else EOS).")
    String padToken;
    @Option(names = "--chunk-size", paramLabel = "N", description = "Tokens per chunk.")
    Integer chunkSize;
    @Option(names = "--chunks-per-seq", paramLabel = "K", description = "Chunks per row (seq_len = N x K).")
    Integer chunksPerSeq;
    @Option(names = "--packing", paramLabel = "POLICY", description = "concat | bfd | chunk-aligned")
    String packing;
    @Option(names = "--add-bos", negatable = true, description = "Put BOS before every document (--no-add-bos: don't).")
    Boolean addBos;
    @Option(names = "--eos", negatable = true, description = "Append EOS after every document (default); --no-eos: don't.")
    Boolean addEos;
    @Option(names = "--seed", paramLabel = "S", description = "Seed of the document order.")
    Long seed;
    @Option(names = "--partitions", paramLabel = "P", description = "Tokenization partitions (0 = Spark's default parallelism).")
    Integer partitions;
    @Option(names = "--shards", paramLabel = "N", description = "Output shards (0 = one per 256 MiB of input).")
    Integer shards;
    @Option(names = "--rows-per-batch", paramLabel = "R", description = "Rows per Arrow record batch.")
    Integer rowsPerBatch;
    @Option(names = "--mode", paramLabel = "MODE",
            description = "full (default): every input file; incremental: only input files the dataset has not seen.")
    String mode;
    @Option(names = "--overwrite", negatable = true,
            description = "Replace a dataset already in the output directory by a complete new version.")
    Boolean overwrite;
    @Option(names = "--eval-fraction", paramLabel = "F",
            description = "Hold out this fraction of the documents (by document hash) as an evaluation dataset (default 0: none).")
    Double evalFraction;
    @Option(names = "--eval-output", paramLabel = "DIR", description = "Held-out dataset directory (default <output>-eval).")
    String evalOutput;
    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*]).")
    String master;
    // a String, not a File: File turns hdfs://host:8020/x into hdfs:/host:8020/x
    @Option(names = "--conf", paramLabel = "FILE",
            description = "HOCON config file (keys under tokenize { }); local or any Hadoop file system path.")
    String conf;
    @Option(names = "--verbose", description = "Print stack traces of errors.")
    boolean verbose;

    public static void main(String[] args) {
        LaunchMode.configureEmbeddedLogging();   // before anything creates a logger
        int code = commandLine().execute(args);
        // Under spark-submit a successful main RETURNS: System.exit(0) in a cluster-mode driver (YARN's
        // ApplicationMaster) ends the application before it reports success, which is recorded as FAILED.
        // A failure exits non-zero (its message is already in the driver's stderr, i.e. the driver log).
        if (code != 0 || !LaunchMode.underSparkSubmit()) {
            System.exit(code);
        }
    }

    /** The command with its error handling: one clear line per error, the stack trace only with --verbose. */
    public static CommandLine commandLine() {
        TokenizeJob job = new TokenizeJob();
        CommandLine cli = new CommandLine(job);
        cli.setExecutionExceptionHandler((e, cmd, parseResult) -> {
            PrintWriter err = cmd.getErr();
            err.println("tokenize-job: error: " + ErrorMessages.describe(e));
            if (job.verbose) {
                e.printStackTrace(err);
            } else {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return ExitCodes.of(ErrorMessages.cause(e));
        });
        cli.setParameterExceptionHandler((e, args) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("tokenize-job: error: " + e.getMessage());
            if (!CommandLine.UnmatchedArgumentException.printSuggestions(e, err)) {
                err.println("(tokenize-job --help lists the options)");
            }
            err.flush();
            return ExitCodes.BAD_INPUT;
        });
        return cli;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
        if (spec.commandLine().getParseResult().originalArgs().isEmpty()) {
            // no arguments: the options, like --help (and like train-job and pipeline.jar with no arguments)
            spec.commandLine().usage(spec.commandLine().getOut());
            return ExitCodes.OK;
        }
        java.nio.file.Path confFile = Locations.fetch("--conf", conf, new Configuration());
        TokenizeSettings settings = TokenizeSettings.load(overrides(), confFile == null ? null : confFile.toFile());
        // every pre-flight check before Spark starts: a mistake, or nothing to do, costs no cluster resources
        TokenizePlan plan = TokenizePlan.prepare(settings, SparkSessions.hadoopConfForPreflight());
        if (plan.version().kind() == VersionPlan.Kind.NOTHING) {
            // under the output locks: another job may be writing there; a stale _SUCCESS is repaired
            System.out.println(TokenizeRunner.nothingToDo(plan).summary());
            return 0;
        }
        SparkSessions.Opened opened = SparkSessions.openForJob(settings.master());
        boolean ownSession = opened.started();
        SparkSession spark = opened.session();
        try {
            TokenizeResult result = TokenizeRunner.run(spark, plan);
            System.out.println(result.summary());
            if (result.heldOut() != null) {
                System.out.println(result.heldOut().summary("held-out set"));
            }
        } finally {
            if (ownSession) {
                spark.stop();
            }
        }
        return 0;
    }

    Map<String, Object> overrides() {
        Map<String, Object> m = new LinkedHashMap<>();
        put(m, "input", input);
        put(m, "format", format);
        put(m, "text-field", textField);
        put(m, "output", output);
        put(m, "tokenizer", tokenizer);
        put(m, "bos-token", bosToken);
        put(m, "eos-token", eosToken);
        put(m, "pad-token", padToken);
        put(m, "chunk-size", chunkSize);
        put(m, "chunks-per-seq", chunksPerSeq);
        put(m, "packing", packing);
        put(m, "add-bos", addBos);
        put(m, "add-eos", addEos);
        put(m, "seed", seed);
        put(m, "partitions", partitions);
        put(m, "shards", shards);
        put(m, "rows-per-batch", rowsPerBatch);
        put(m, "mode", mode);
        put(m, "overwrite", overwrite);
        put(m, "master", master);
        put(m, "eval-fraction", evalFraction);
        put(m, "eval-output", evalOutput);
        return m;
    }

    private static void put(Map<String, Object> m, String key, Object value) {
        if (value != null) {
            m.put(key, value);
        }
    }
}
