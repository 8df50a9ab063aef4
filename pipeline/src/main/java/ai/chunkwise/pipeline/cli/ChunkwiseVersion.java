package ai.chunkwise.pipeline.cli;

import picocli.CommandLine;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The one version of Chunkwise, the Maven project version, written into {@code ai/chunkwise/pipeline/version.properties}
 * by resource filtering at build time. All three jars carry this module, so they all report the same string.
 */
public final class ChunkwiseVersion {
    private static final String RESOURCE = "/ai/chunkwise/pipeline/version.properties";

    private ChunkwiseVersion() {
    }

    /** The Maven project version, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static String version() {
        try (InputStream in = ChunkwiseVersion.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the classpath: build with Maven");
            }
            Properties p = new Properties();
            p.load(in);
            String v = p.getProperty("version", "");
            if (v.isBlank() || v.contains("${")) {
                throw new IllegalStateException(RESOURCE + " was not filtered by Maven (version = '" + v + "')");
            }
            return v;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE + ": " + e.getMessage(), e);
        }
    }

    /** What {@code --version} prints in every Chunkwise command line. */
    public static String line() {
        return "chunkwise " + version();
    }

    /** picocli's hook: {@code versionProvider = ChunkwiseVersion.Provider.class}. */
    public static final class Provider implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {line()};
        }
    }
}
