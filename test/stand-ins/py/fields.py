# STAND-IN field lists: every field the real decoders know, so an unknown one fails like kubeadm's strict
# decoding ("strict decoding error: unknown field ...").
# Sources:
#  - kubeadm v1beta4: https://kubernetes.io/docs/reference/config-api/kubeadm-config.v1beta4/ and its Go types,
#    kubernetes/kubernetes cmd/kubeadm/app/apis/kubeadm/v1beta4/types.go (plus the v1beta4 additions listed on the
#    reference page: timeouts, imagePullSerial, extraEnvs, encryptionAlgorithm, certificate validity periods,
#    dns.disabled, proxy.disabled); BootstrapToken from cmd/kubeadm/app/apis/bootstraptoken/v1.
#  - kubelet v1beta1: https://kubernetes.io/docs/reference/config-api/kubelet-config.v1beta1/
#    (staging/src/k8s.io/kubelet/config/v1beta1/types.go).
# A schema is a dict (known keys, each with its own schema), [schema] (a list of them), ANY (scalar or free map).

ANY = None

ARG = {"name": ANY, "value": ANY}
ENV = {"name": ANY, "value": ANY, "valueFrom": ANY}
HOST_PATH_MOUNT = {"name": ANY, "hostPath": ANY, "mountPath": ANY, "readOnly": ANY, "pathType": ANY}
TAINT = {"key": ANY, "value": ANY, "effect": ANY, "timeAdded": ANY}
API_ENDPOINT = {"advertiseAddress": ANY, "bindPort": ANY}
PATCHES = {"directory": ANY}
TIMEOUTS = {
    "controlPlaneComponentHealthCheck": ANY, "kubeletHealthCheck": ANY, "kubernetesAPICall": ANY,
    "etcdAPICall": ANY, "tlsBootstrap": ANY, "discovery": ANY, "upgradeManifests": ANY,
}
NODE_REGISTRATION = {
    "name": ANY, "criSocket": ANY, "taints": [TAINT], "kubeletExtraArgs": [ARG],
    "ignorePreflightErrors": ANY, "imagePullPolicy": ANY, "imagePullSerial": ANY,
}
BOOTSTRAP_TOKEN = {"token": ANY, "description": ANY, "ttl": ANY, "expires": ANY, "usages": ANY, "groups": ANY}
TYPE_META = {"apiVersion": ANY, "kind": ANY}

INIT_CONFIGURATION = {
    **TYPE_META, "bootstrapTokens": [BOOTSTRAP_TOKEN], "dryRun": ANY, "nodeRegistration": NODE_REGISTRATION,
    "localAPIEndpoint": API_ENDPOINT, "certificateKey": ANY, "skipPhases": ANY, "patches": PATCHES,
    "timeouts": TIMEOUTS,
}

CONTROL_PLANE_COMPONENT = {"extraArgs": [ARG], "extraVolumes": [HOST_PATH_MOUNT], "extraEnvs": [ENV]}
IMAGE_META = {"imageRepository": ANY, "imageTag": ANY}
CLUSTER_CONFIGURATION = {
    **TYPE_META,
    "etcd": {
        "local": {**IMAGE_META, "dataDir": ANY, "extraArgs": [ARG], "extraEnvs": [ENV], "serverCertSANs": ANY, "peerCertSANs": ANY},
        "external": {"endpoints": ANY, "caFile": ANY, "certFile": ANY, "keyFile": ANY},
    },
    "networking": {"serviceSubnet": ANY, "podSubnet": ANY, "dnsDomain": ANY},
    "kubernetesVersion": ANY, "controlPlaneEndpoint": ANY,
    "apiServer": {**CONTROL_PLANE_COMPONENT, "certSANs": ANY},
    "controllerManager": CONTROL_PLANE_COMPONENT, "scheduler": CONTROL_PLANE_COMPONENT,
    "dns": {**IMAGE_META, "disabled": ANY}, "proxy": {"disabled": ANY},
    "certificatesDir": ANY, "imageRepository": ANY, "featureGates": ANY, "clusterName": ANY,
    "encryptionAlgorithm": ANY, "certificateValidityPeriod": ANY, "caCertificateValidityPeriod": ANY,
}

JOIN_CONFIGURATION = {
    **TYPE_META, "dryRun": ANY, "nodeRegistration": NODE_REGISTRATION, "caCertPath": ANY,
    "discovery": {
        "bootstrapToken": {"token": ANY, "apiServerEndpoint": ANY, "caCertHashes": ANY, "unsafeSkipCAVerification": ANY},
        "file": {"kubeConfigPath": ANY},
        "tlsBootstrapToken": ANY,
    },
    "controlPlane": {"localAPIEndpoint": API_ENDPOINT, "certificateKey": ANY},
    "skipPhases": ANY, "patches": PATCHES, "timeouts": TIMEOUTS,
}

# KubeletConfiguration: top-level fields of kubelet.config.k8s.io/v1beta1 (nested objects such as
# authentication, evictionHard or logging are taken as a whole).
KUBELET_CONFIGURATION = {
    **TYPE_META, **{name: ANY for name in """
    enableServer staticPodPath podLogsDir syncFrequency fileCheckFrequency httpCheckFrequency staticPodURL
    staticPodURLHeader address port readOnlyPort tlsCertFile tlsPrivateKeyFile tlsCipherSuites tlsMinVersion
    rotateCertificates serverTLSBootstrap authentication authorization registryPullQPS registryBurst
    imagePullCredentialsVerificationPolicy preloadedImagesVerificationAllowlist eventRecordQPS eventBurst
    enableDebuggingHandlers enableContentionProfiling healthzPort healthzBindAddress oomScoreAdj clusterDomain
    clusterDNS streamingConnectionIdleTimeout nodeStatusUpdateFrequency nodeStatusReportFrequency
    nodeLeaseDurationSeconds imageMinimumGCAge imageMaximumGCAge imageGCHighThresholdPercent
    imageGCLowThresholdPercent volumeStatsAggPeriod kubeletCgroups systemCgroups cgroupRoot cgroupsPerQOS
    cgroupDriver cpuManagerPolicy singleProcessOOMKill cpuManagerPolicyOptions cpuManagerReconcilePeriod
    memoryManagerPolicy topologyManagerPolicy topologyManagerScope topologyManagerPolicyOptions qosReserved
    runtimeRequestTimeout hairpinMode maxPods podCIDR podPidsLimit resolvConf runOnce cpuCFSQuota
    cpuCFSQuotaPeriod nodeStatusMaxImages maxOpenFiles contentType kubeAPIQPS kubeAPIBurst serializeImagePulls
    maxParallelImagePulls evictionHard evictionSoft evictionSoftGracePeriod evictionPressureTransitionPeriod
    evictionMaxPodGracePeriod evictionMinimumReclaim mergeDefaultEvictionSettings podsPerCore
    enableControllerAttachDetach protectKernelDefaults makeIPTablesUtilChains iptablesMasqueradeBit
    iptablesDropBit featureGates failSwapOn memorySwap containerLogMaxSize containerLogMaxFiles
    containerLogMaxWorkers containerLogMonitorInterval configMapAndSecretChangeDetectionStrategy systemReserved
    kubeReserved reservedSystemCPUs showHiddenMetricsForVersion systemReservedCgroup kubeReservedCgroup
    enforceNodeAllocatable allowedUnsafeSysctls volumePluginDir providerID kernelMemcgNotification logging
    enableSystemLogHandler enableSystemLogQuery shutdownGracePeriod shutdownGracePeriodCriticalPods
    shutdownGracePeriodByPodPriority crashLoopBackOff reservedMemory enableProfilingHandler
    enableDebugFlagsHandler seccompDefault memoryThrottlingFactor registerWithTaints registerNode tracing
    localStorageCapacityIsolation containerRuntimeEndpoint imageServiceEndpoint failCgroupV1 userNamespaces
    """.split()},
}

KUBEADM_API = "kubeadm.k8s.io/v1beta4"
KUBELET_API = "kubelet.config.k8s.io/v1beta1"
KINDS = {
    (KUBEADM_API, "InitConfiguration"): INIT_CONFIGURATION,
    (KUBEADM_API, "ClusterConfiguration"): CLUSTER_CONFIGURATION,
    (KUBEADM_API, "JoinConfiguration"): JOIN_CONFIGURATION,
    (KUBELET_API, "KubeletConfiguration"): KUBELET_CONFIGURATION,
}
