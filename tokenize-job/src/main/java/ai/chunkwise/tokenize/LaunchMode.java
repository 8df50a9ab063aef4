package ai.chunkwise.tokenize;

/**
 * How the job was started: under spark-submit (client or cluster deploy mode), or embedded with {@code java -jar}.
 * spark-submit (and, in cluster deploy mode, the driver launcher) hands the job its settings as {@code spark.*}
 * system properties, {@code spark.master} always among them.
 */
public final class LaunchMode {
    /** The quiet log configuration of the embedded mode; never picked up under spark-submit. */
    static final String EMBEDDED_LOG_CONFIG = "ai/chunkwise/tokenize/log4j2-embedded.properties";

    private LaunchMode() {
    }

    public static boolean underSparkSubmit() {
        return System.getProperty("spark.master") != null;
    }

    /**
     * In embedded mode, selects the quiet log configuration unless the user gave one. Must run before the first
     * logger is created (log4j2 reads the property once, at initialisation).
     */
    static void configureEmbeddedLogging() {
        if (underSparkSubmit() || System.getProperty("log4j2.configurationFile") != null
                || System.getProperty("log4j.configurationFile") != null) {
            return;
        }
        System.setProperty("log4j2.configurationFile", EMBEDDED_LOG_CONFIG);
    }

    /** Spark's \r progress bar belongs on a terminal only; a scheduler's log gets {@link StageProgressLog} lines. */
    static boolean stdoutIsTerminal() {
        return System.console() != null;
    }
}
