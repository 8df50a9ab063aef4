package ai.chunkwise.cluster;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/** What the pom hands the cluster test (failsafe's systemPropertyVariables): the built jars and directories. */
record ItSettings(Path tokenizeJar, Path sparkJars, Path hdfsJars, Path trainJar, Path repoRoot, List<String> jvmOpens,
                  Path workDir) {

    static ItSettings fromSystemProperties() {
        return new ItSettings(path("chunkwise.it.tokenizeJar"), path("chunkwise.it.sparkJars"),
                path("chunkwise.it.hdfsJars"), path("chunkwise.it.trainJar"), path("chunkwise.it.repoRoot"),
                Arrays.stream(required("chunkwise.it.jvmOpens").trim().split("\\s+")).toList(),
                path("chunkwise.it.workDir"));
    }

    private static String required(String key) {
        String v = System.getProperty(key);
        if (v == null) {
            throw new IllegalStateException("system property " + key + " is not set: run the cluster test through "
                    + "Maven (mvn -B verify), whose failsafe configuration in train-job/pom.xml sets it");
        }
        return v;
    }

    private static Path path(String key) {
        return Path.of(required(key)).toAbsolutePath().normalize();
    }

    String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    /** MiniDFSClusterManager's class path: the minicluster jars plus Hadoop's client jars that Spark brings. */
    String hdfsClassPath() {
        return hdfsJars + File.separator + "*" + File.pathSeparator + sparkJars + File.separator + "*";
    }

    void requireBuilt() {
        for (Path p : List.of(tokenizeJar, sparkJars, hdfsJars, trainJar)) {
            if (!Files.exists(p)) {
                throw new IllegalStateException(p + " does not exist: the cluster test needs the packaged jobs "
                        + "(mvn -B verify builds them before it runs)");
            }
        }
    }
}
