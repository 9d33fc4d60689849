/** Manifests embedded as text (`import x from "./a.md" with { type: "text" }`), so they live in the binary. */
declare module "*.md" {
  const text: string;
  export default text;
}
