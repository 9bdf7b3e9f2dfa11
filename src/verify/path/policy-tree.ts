import type { Certificate } from '../certificate.js';

/**
 * Certificate policy processing, RFC 5280 §6.1.2 (a)(d)(e)(f), §6.1.3 (d)–(f), §6.1.4 (a)(b)
 * (h)–(j) and §6.1.5 (a)(b)(g): the valid_policy_tree with explicit_policy, policy_mapping and
 * inhibit_anyPolicy. The tree is bounded (MAX_NODES): policy mappings can make it grow
 * exponentially, and a path that needs more nodes is refused rather than processed.
 */

export const ANY_POLICY = '2.5.29.32.0';
export const MAX_NODES = 4096;

/** RFC 5280 §6.1.1 (c)(e)(f)(g). */
export interface PolicySettings {
  /** user-initial-policy-set; default {anyPolicy}. */
  initialPolicySet?: string[];
  initialExplicitPolicy?: boolean;
  initialPolicyMappingInhibit?: boolean;
  initialInhibitAnyPolicy?: boolean;
}

interface PolicyNode {
  validPolicy: string;
  expectedPolicySet: Set<string>;
  children: PolicyNode[];
  parent: PolicyNode | undefined;
  depth: number;
}

/** Processing state across the path; `n` is the number of certificates after the anchor. */
export class PolicyProcessor {
  #root: PolicyNode | undefined;
  #explicitPolicy: number;
  #policyMapping: number;
  #inhibitAnyPolicy: number;
  #nodes = 1;
  readonly #n: number;
  readonly #userSet: Set<string>;

  constructor(n: number, settings: PolicySettings = {}) {
    this.#n = n;
    this.#root = { validPolicy: ANY_POLICY, expectedPolicySet: new Set([ANY_POLICY]), children: [], parent: undefined, depth: 0 };
    this.#explicitPolicy = settings.initialExplicitPolicy === true ? 0 : n + 1;
    this.#policyMapping = settings.initialPolicyMappingInhibit === true ? 0 : n + 1;
    this.#inhibitAnyPolicy = settings.initialInhibitAnyPolicy === true ? 0 : n + 1;
    this.#userSet = new Set(settings.initialPolicySet ?? [ANY_POLICY]);
  }

  /** §6.1.3 (d)–(f) for certificate i (1-based from the anchor). A refusal sentence or undefined. */
  processCertificate(cert: Certificate, i: number): string | undefined {
    const policies = cert.certificatePolicies;
    if (this.#root !== undefined && policies !== undefined) {
      const parents = this.#level(i - 1);
      let anyQualified = false;
      for (const p of policies) {
        if (p.policyIdentifier === ANY_POLICY) {
          anyQualified = true;
          continue;
        }
        // (d)(1)(i)
        let matched = false;
        for (const node of parents) {
          if (node.expectedPolicySet.has(p.policyIdentifier)) {
            this.#addChild(node, p.policyIdentifier, new Set([p.policyIdentifier]));
            matched = true;
          }
        }
        // (d)(1)(ii)
        if (!matched) {
          for (const node of parents) {
            if (node.validPolicy === ANY_POLICY) this.#addChild(node, p.policyIdentifier, new Set([p.policyIdentifier]));
          }
        }
      }
      // (d)(2)
      if (anyQualified && (this.#inhibitAnyPolicy > 0 || (i < this.#n && cert.selfIssued))) {
        for (const node of parents) {
          const present = new Set(node.children.map((c) => c.validPolicy));
          for (const expected of node.expectedPolicySet) {
            if (!present.has(expected)) this.#addChild(node, expected, new Set([expected]));
          }
        }
      }
      if (this.#nodes > MAX_NODES)
        return `the certificate policy tree would need more than ${MAX_NODES} nodes; refused as a denial-of-service guard`;
      // (d)(3)
      this.#prune(i);
    } else if (policies === undefined) {
      // (e)
      this.#root = undefined;
    }
    // (f)
    if (this.#explicitPolicy <= 0 && this.#root === undefined) {
      return `no acceptable certificate policy remains at certificate ${cert.describe()} while an explicit policy is required`;
    }
    return undefined;
  }

  /** §6.1.4 (a)(b)(h)(i)(j) after certificate i (only for i < n). */
  prepareNext(cert: Certificate, i: number): string | undefined {
    const mappings = cert.policyMappings;
    if (mappings !== undefined) {
      // (a)
      for (const m of mappings) {
        if (m.issuerDomainPolicy === ANY_POLICY || m.subjectDomainPolicy === ANY_POLICY) {
          return `certificate ${cert.describe()} maps anyPolicy, which RFC 5280 §6.1.4 (a) forbids`;
        }
      }
      // (b)
      if (this.#root !== undefined) {
        const bySubject = new Map<string, Set<string>>();
        for (const m of mappings) {
          let set = bySubject.get(m.issuerDomainPolicy);
          if (set === undefined) bySubject.set(m.issuerDomainPolicy, (set = new Set()));
          set.add(m.subjectDomainPolicy);
        }
        for (const [issuerPolicy, subjectPolicies] of bySubject) {
          const level = this.#level(i);
          if (this.#policyMapping > 0) {
            let found = false;
            for (const node of level) {
              if (node.validPolicy === issuerPolicy) {
                node.expectedPolicySet = new Set(subjectPolicies);
                found = true;
              }
            }
            if (!found) {
              const any = level.find((n) => n.validPolicy === ANY_POLICY);
              if (any !== undefined && any.parent !== undefined) this.#addChild(any.parent, issuerPolicy, new Set(subjectPolicies));
            }
          } else {
            for (const node of level) if (node.validPolicy === issuerPolicy) this.#remove(node);
            this.#prune(i);
          }
        }
        if (this.#nodes > MAX_NODES)
          return `the certificate policy tree would need more than ${MAX_NODES} nodes; refused as a denial-of-service guard`;
      }
    }
    // (h)
    if (!cert.selfIssued) {
      if (this.#explicitPolicy > 0) this.#explicitPolicy--;
      if (this.#policyMapping > 0) this.#policyMapping--;
      if (this.#inhibitAnyPolicy > 0) this.#inhibitAnyPolicy--;
    }
    // (i)
    const pc = cert.policyConstraints;
    if (pc?.requireExplicitPolicy !== undefined && pc.requireExplicitPolicy < this.#explicitPolicy)
      this.#explicitPolicy = pc.requireExplicitPolicy;
    if (pc?.inhibitPolicyMapping !== undefined && pc.inhibitPolicyMapping < this.#policyMapping)
      this.#policyMapping = pc.inhibitPolicyMapping;
    // (j)
    if (cert.inhibitAnyPolicy !== undefined && cert.inhibitAnyPolicy < this.#inhibitAnyPolicy)
      this.#inhibitAnyPolicy = cert.inhibitAnyPolicy;
    return undefined;
  }

  /** §6.1.5 (a)(b)(g) for the leaf; the valid policies, or a refusal sentence. */
  wrapUp(leaf: Certificate): { policies: string[] } | { refused: string } {
    // (a)
    if (this.#explicitPolicy > 0) this.#explicitPolicy--;
    // (b)
    if (leaf.policyConstraints?.requireExplicitPolicy === 0) this.#explicitPolicy = 0;
    // (g)
    const n = this.#n;
    if (this.#root !== undefined && !this.#userSet.has(ANY_POLICY)) {
      // (g)(iii)
      const validPolicyNodeSet = this.#validPolicyNodeSet();
      for (const node of validPolicyNodeSet) {
        if (node.validPolicy !== ANY_POLICY && !this.#userSet.has(node.validPolicy)) this.#remove(node);
      }
      const anyLeaf = this.#level(n).find((node) => node.validPolicy === ANY_POLICY);
      if (anyLeaf !== undefined && anyLeaf.parent !== undefined) {
        const present = new Set(validPolicyNodeSet.map((node) => node.validPolicy));
        for (const p of this.#userSet) {
          if (!present.has(p)) this.#addChild(anyLeaf.parent, p, new Set([p]));
        }
        this.#remove(anyLeaf);
      }
      this.#prune(n);
    }
    const policies = this.#root === undefined ? [] : [...new Set(this.#level(n).map((node) => node.validPolicy))];
    if (this.#explicitPolicy > 0 || this.#root !== undefined) return { policies };
    return {
      refused: this.#userSet.has(ANY_POLICY)
        ? 'no certificate policy is valid for the path while an explicit policy is required'
        : `none of the required certificate policies (${[...this.#userSet].join(', ')}) is valid for the path`,
    };
  }

  #addChild(parent: PolicyNode, validPolicy: string, expected: Set<string>): void {
    parent.children.push({ validPolicy, expectedPolicySet: expected, children: [], parent, depth: parent.depth + 1 });
    this.#nodes++;
  }

  #remove(node: PolicyNode): void {
    if (node.parent === undefined) {
      this.#root = undefined;
      return;
    }
    const siblings = node.parent.children;
    const k = siblings.indexOf(node);
    if (k >= 0) siblings.splice(k, 1);
  }

  /** Removes nodes of depth < `depth` that have no children, repeatedly (§6.1.3 (d)(3)). */
  #prune(depth: number): void {
    const visit = (node: PolicyNode): boolean => {
      if (node.depth >= depth) return true;
      node.children = node.children.filter(visit);
      return node.children.length > 0;
    };
    if (this.#root !== undefined && !visit(this.#root)) this.#root = undefined;
  }

  #level(depth: number): PolicyNode[] {
    let level = this.#root === undefined ? [] : [this.#root];
    for (let d = 0; d < depth; d++) level = level.flatMap((node) => node.children);
    return level;
  }

  /** Nodes whose parent is an anyPolicy node, and which are not themselves under a non-any node. */
  #validPolicyNodeSet(): PolicyNode[] {
    const out: PolicyNode[] = [];
    const visit = (node: PolicyNode): void => {
      for (const child of node.children) {
        out.push(child);
        if (child.validPolicy === ANY_POLICY) visit(child);
      }
    };
    if (this.#root !== undefined) visit(this.#root);
    return out;
  }
}
