import { Command, Option } from 'commander';
import type { RenderView } from '../../contracts/targets.ts';
import { info, write } from '../output.ts';
import { appLabel, appRef } from './golden-shared.ts';
import { appCommand, selector, type EnvOpts } from './deploy.ts';
import { clientFor } from './shared.ts';

/**
 * `pave render <app> --env <env> --runtime kubernetes|gitops`: the Kubernetes objects of an
 * environment (or, for gitops, the files as they would be committed), validated, printed as
 * multi-document YAML for review (`-o json`: the whole answer). Without options it renders for the
 * environment's target: its runtime and its cluster's settings (team profile environments.<type>.cluster),
 * i.e. what the next deployment would apply or commit. Notes go to stderr: placeholders for
 * what is not known yet, warnings, and errors (what Kubernetes cannot express), which exit 1.
 */

type RenderOpts = EnvOpts & {
  runtime?: string; deployment?: number | string; build?: number | string; k8sNamespace?: string; route?: string;
  host?: string; domain?: string; gateway?: string; ingressClass?: string; cluster?: string; reveal?: boolean;
};

export function renderCommand(): Command {
  return appCommand(new Command('render'), "Print an environment's Kubernetes objects (or GitOps files), validated against the Kubernetes schemas, for review")
    .addOption(new Option('--runtime <runtime>', "target: kubernetes or gitops (default: the environment's runtime when it is one of them, else kubernetes)").choices(['kubernetes', 'gitops']))
    .option('--deployment <deployment>', 'render what an existing deployment ran (number or id)', selector)
    .option('--build <build>', 'render this build (default: the newest successful one)', selector)
    .option('--k8s-namespace <namespace>', "an existing Kubernetes namespace to use (default: the cluster's namespace, else <app>-<env>, created)")
    .addOption(new Option('--route <kind>', 'how a released environment is routed').choices(['httproute', 'ingress']))
    .option('--host <host>', "the environment's host")
    .option('--domain <domain>', "the domain hosts are made in: <app>-<env>.<domain> (default: the cluster's)")
    .option('--gateway <gateway>', 'the Gateway an HTTPRoute attaches to: <name> or <namespace>/<name> (default pave)')
    .option('--ingress-class <class>', 'the IngressClass of an Ingress')
    .option('--cluster <cluster>', "the cluster's folder in the GitOps layout (default: the cluster's name, else the profile's region)")
    .option('--reveal', 'show secret values in clear (needs secret.read; audited)')
    .addHelpText('after', '\nExample:\n  pave render shop --env production --runtime kubernetes > shop.yaml\n\nWithout -o json the objects are printed as YAML (table and yaml alike); placeholders, warnings and errors go to stderr; errors exit 1.')
    .action(async (arg: string, o: RenderOpts, cmd: Command) => {
      const app = appRef(arg, o.namespace);
      const query: Record<string, string | undefined> = {
        namespace: app.namespace, runtime: o.runtime, deployment: o.deployment === undefined ? undefined : String(o.deployment), build: o.build === undefined ? undefined : String(o.build),
        k8sNamespace: o.k8sNamespace, route: o.route, host: o.host, domain: o.domain, gateway: o.gateway, ingressClass: o.ingressClass, cluster: o.cluster, reveal: o.reveal ? 'true' : undefined,
      };
      const view = await clientFor(cmd).json<RenderView>('GET', `/api/v1/applications/${encodeURIComponent(app.name)}/environments/${encodeURIComponent(o.env)}/render`, { query });
      if (o.output === 'json') write(JSON.stringify(view, null, 2));
      else {
        const yaml = await import('yaml');
        const docs = view.gitops
          ? view.gitops.files.map((f) => `# file: ${f.path}\n${f.content}`)
          : view.objects.map((x) => yaml.stringify(x.object, { lineWidth: 0, aliasDuplicateObjects: false }));
        write(docs.join('---\n'));
      }
      info(`${appLabel(app)} in ${view.environment} for ${view.runtime}: ${view.objects.length} objects in namespace ${view.namespace}, deployment ${view.deployment.number}${view.deployment.existing ? '' : ' (next)'}${view.build ? `, build ${view.build.number}` : ', no build'}${view.masked ? '; secret values masked' : ''}`);
      for (const p of view.placeholders) info(`placeholder: ${p}`);
      for (const w of view.warnings) info(`warning: ${w}`);
      for (const e of view.errors) info(`error: ${e}`);
      if (view.errors.length) process.exitCode = 1;
    });
}
